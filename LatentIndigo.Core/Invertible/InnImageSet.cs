using LatentIndigo.Imaging;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// High-quality images held in memory for INN training or evaluation, each <c>[3,H,W]</c> float32 in [0,1] on the
/// CPU, with the name it came from. Disposing frees them.
/// </summary>
public sealed class InnImageSet : IDisposable
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".webp", ".bmp"];
    private readonly List<Tensor> images;

    private InnImageSet(List<Tensor> images, List<string> names)
    {
        this.images = images;
        Names = names;
    }

    /// <summary>The images, <c>[3,H,W]</c> each.</summary>
    public IReadOnlyList<Tensor> Images => images;

    /// <summary>File names (or "image{i}" for tensors), in the order of <see cref="Images"/>.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of images.</summary>
    public int Count => images.Count;

    /// <summary>
    /// Loads every image file (.png, .jpg, .jpeg, .webp, .bmp) of the given folders (not recursive) and the given files,
    /// sorted by name within each folder.
    /// </summary>
    /// <exception cref="LatentIndigoException">A path does not exist or no image was found.</exception>
    public static InnImageSet FromPaths(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path)
                    .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .OrderBy(f => f, StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                throw new LatentIndigoException($"Training image path '{path}' is neither a folder nor a file.");
            }
        }
        if (files.Count == 0)
        {
            throw new LatentIndigoException(
                $"No images (.png, .jpg, .jpeg, .webp, .bmp) found in {string.Join(", ", paths.Select(p => $"'{p}'"))}.");
        }
        var loaded = new List<Tensor>(files.Count);
        try
        {
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var batch = ImageIO.Load(file);
                // The set owns its images: they must outlive any dispose scope of the caller.
                loaded.Add(batch[0].contiguous().DetachFromDisposeScope());
            }
        }
        catch
        {
            loaded.ForEach(t => t.Dispose());
            throw;
        }
        return new InnImageSet(loaded, files.Select(Path.GetFileName).ToList()!);
    }

    /// <summary>Wraps images given as <c>[3,H,W]</c> or <c>[1,3,H,W]</c> tensors (copied; the caller keeps its own).</summary>
    public static InnImageSet FromTensors(IEnumerable<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<Tensor>();
        foreach (var t in tensors)
        {
            var image = t.dim() == 4 && t.shape[0] == 1 ? t[0] : t.alias();
            if (image.dim() != 3 || image.shape[0] != 3)
            {
                image.Dispose();
                list.ForEach(x => x.Dispose());
                throw new InnInputException($"Training images must be [3,H,W] or [1,3,H,W]; got [{string.Join(",", t.shape)}].");
            }
            list.Add(image.to(float32, CPU).clone().DetachFromDisposeScope());
            image.Dispose();
        }
        return new InnImageSet(list, list.Select((_, i) => $"image{i}").ToList());
    }

    /// <inheritdoc />
    public void Dispose() => images.ForEach(t => t.Dispose());
}
