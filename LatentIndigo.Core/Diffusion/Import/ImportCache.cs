using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// Where <see cref="StableDiffusionImport.ConvertCached"/> keeps conversions: one folder per source content and
/// conversion settings, named <c>&lt;source name&gt;-&lt;key&gt;</c>. The key hashes every file of the source (relative path,
/// size, and content: whole for files up to 64 MiB, else the first and last MiB and 16 evenly spaced MiB samples),
/// the settings that change the output, and the library version; a source copied elsewhere hits the same entry.
/// </summary>
internal static class ImportCache
{
    /// <summary>The environment variable that moves the cache.</summary>
    public const string EnvironmentVariable = "LATENTINDIGO_IMPORT_CACHE";

    private const long WholeFileLimit = 64L << 20;
    private const int Sample = 1 << 20;
    private const int Samples = 16;

    /// <summary>$LATENTINDIGO_IMPORT_CACHE, else the user's local application data folder + LatentIndigo/imports.</summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create) is { Length: > 0 } local
                ? local : Path.GetTempPath(), "LatentIndigo", "imports");

    /// <summary>The cache entry of <paramref name="source"/> converted with <paramref name="options"/>.</summary>
    public static string EntryFor(string source, StableDiffusionImportOptions options, string cacheFolder)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) => hash.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        Text($"LatentIndigo {LibraryInfo.Version}; precision {options.Precision}; prediction {options.PredictionType?.Value ?? "-"}; ema {options.UseEma}");
        HashTree(hash, source);
        foreach (var extra in new[] { options.OriginalConfigPath, options.ConfigFolder, options.TokenizerFolder })
        {
            Text(extra is null ? "-" : "+");
            if (extra is not null)
            {
                HashTree(hash, extra);
            }
        }
        var key = Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
        var name = Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source)));
        var safe = new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return Path.Combine(cacheFolder, $"{(safe.Length > 40 ? safe[..40] : safe)}-{key}");
    }

    private static void HashTree(IncrementalHash hash, string path)
    {
        if (File.Exists(path))
        {
            HashFile(hash, path, Path.GetFileName(path));
            return;
        }
        var root = Path.GetFullPath(path);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            HashFile(hash, file, Path.GetRelativePath(root, file).Replace('\\', '/'));
        }
    }

    private static void HashFile(IncrementalHash hash, string file, string name)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long length = stream.Length;
        hash.AppendData(Encoding.UTF8.GetBytes($"{name}\n{length.ToString(CultureInfo.InvariantCulture)}\n"));
        var buffer = new byte[Sample];
        if (length <= WholeFileLimit)
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
            return;
        }
        for (int i = 0; i <= Samples + 1; i++)
        {
            // The first MiB (headers), evenly spaced samples, the last MiB.
            long offset = i == 0 ? 0 : i == Samples + 1 ? length - Sample : (length - Sample) / (Samples + 1) * i;
            stream.Position = offset;
            stream.ReadExactly(buffer, 0, Sample);
            hash.AppendData(buffer);
        }
    }
}
