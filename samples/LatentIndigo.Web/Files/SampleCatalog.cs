using LatentIndigo.Imaging;
using LatentIndigo.Web.Hosting;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Files;

/// <summary>
/// The bundled sample images the page offers (samples/data, copied next to the app). The list is made once by the
/// server; a request names a sample by its listed name and gets that entry's file: a client's text is never joined into
/// a path.
/// </summary>
public sealed class SampleCatalog
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".webp"];
    private readonly Dictionary<string, (string Path, SampleImage Info)> samples = new(StringComparer.Ordinal);

    /// <summary>Lists the images of the configured samples folder (none when it does not exist).</summary>
    public SampleCatalog(IOptions<DemoSettings> options, ILogger<SampleCatalog> logger)
    {
        string folder = options.Value.SamplesFolder ?? Path.Combine(AppContext.BaseDirectory, "samples");
        if (!Directory.Exists(folder))
        {
            logger.LogInformation("No sample images: {Folder} does not exist", folder);
            return;
        }
        foreach (var path in Directory.EnumerateFiles(folder).Where(p => Extensions.Contains(Path.GetExtension(p).ToLowerInvariant())).Order(StringComparer.Ordinal))
        {
            try
            {
                var (_, width, height) = ImageIO.Identify(path);
                var info = new SampleImage(Path.GetFileName(path), width, height, new FileInfo(path).Length);
                samples[info.Name] = (path, info);
            }
            catch (ImageLoadException ex)
            {
                logger.LogWarning("Sample skipped: {Message}", ex.Message);
            }
        }
    }

    /// <summary>The samples, smallest first (quickest to restore).</summary>
    public IReadOnlyList<SampleImage> All => [.. samples.Values.Select(s => s.Info).OrderBy(s => (long)s.Width * s.Height).ThenBy(s => s.Name, StringComparer.Ordinal)];

    /// <summary>The file of a listed sample, or null.</summary>
    public string? PathOf(string name) => samples.TryGetValue(name, out var sample) ? sample.Path : null;
}

/// <summary>A bundled sample image.</summary>
/// <param name="Name">Its name (the key of <c>GET /api/samples/{name}</c>).</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Bytes">File size.</param>
public sealed record SampleImage(string Name, int Width, int Height, long Bytes);
