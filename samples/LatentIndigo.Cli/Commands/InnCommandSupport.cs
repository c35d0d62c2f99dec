using LatentIndigo.Degradations;
using LatentIndigo.Invertible;

namespace LatentIndigo.Cli.Commands;

/// <summary>Loading INNs and degradations for the INN commands, with one-line errors for the user.</summary>
internal static class InnCommandSupport
{
    /// <summary>
    /// What a run records of an INN given by name or path (docs/reliability.md): a bundled network by its name (the
    /// package version is recorded too), a file by its full path and SHA-256, so that a file replaced in place is seen.
    /// </summary>
    public static string InnIdentity(string nameOrPath)
    {
        if (!File.Exists(nameOrPath))
        {
            return "bundled:" + nameOrPath;
        }
        using var stream = File.OpenRead(nameOrPath);
        return $"{Path.GetFullPath(nameOrPath)}, SHA-256 {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant()}";
    }

    /// <summary>
    /// What a run records of a model folder: its full path and its files' names and sizes (hashing gigabytes of weights
    /// on each start would cost more than it finds; docs/reliability.md says what this does not see).
    /// </summary>
    public static string FolderIdentity(string folder)
    {
        var full = Path.GetFullPath(folder);
        var files = Directory.Exists(full)
            ? Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(f => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Path.GetRelativePath(full, f)}:{new FileInfo(f).Length}"))
            : [];
        return $"{full} [{string.Join(", ", files)}]";
    }

    /// <summary>
    /// A bundled name (bicubic-x4, realworld-x4), a LatentIndigo .inn file, or an official INDIGO+ .pth state dict
    /// (then the INDIGO+ pixel options are assumed).
    /// </summary>
    public static LiftingInn LoadInn(string value)
    {
        if (BundledInn.TryParse(value, out var bundled))
        {
            return BundledInn.Load(bundled);
        }
        if (!File.Exists(value))
        {
            throw new CliUserException(
                $"The INN '{value}' is neither a file nor a bundled network ({string.Join(", ", BundledInn.Names)}).");
        }
        return LiftingInn.LoadAny(value);
    }

    public static IDegradationModel ParseDegradation(string spec)
    {
        try
        {
            return DegradationSpec.Parse(spec);
        }
        catch (DegradationSpecException ex)
        {
            throw new CliUserException(ex.Message);
        }
    }

    /// <summary>J such that 2^J = factor, or a user error.</summary>
    public static int LevelsFor(int factor, string what)
    {
        int levels = 0;
        while ((1 << levels) < factor)
        {
            levels++;
        }
        if ((1 << levels) != factor)
        {
            throw new CliUserException($"{what} is ×{factor}, but a lifting INN scales by a power of two (×1, ×2, ×4, ×8).");
        }
        return levels;
    }
}
