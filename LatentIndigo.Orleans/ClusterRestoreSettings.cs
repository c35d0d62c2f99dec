using LatentIndigo.Pipeline;

namespace LatentIndigo.Orleans;

/// <summary>
/// The restoration settings of a cluster job, in a form Orleans can serialise (a subset of <see cref="RestoreOptions"/>:
/// what a job varies). Every worker builds the same <see cref="RestoreOptions"/> from it, so every silo writes the bytes
/// a local batch with those options writes.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ClusterRestoreSettings
{
    /// <summary>The guidance strategy (by name: the serializer needs no codec for the core library's enum).</summary>
    [Id(0)] public string Strategy { get; init; } = nameof(GuidanceStrategy.PixelInn);

    /// <summary>Scale factor 1, 2, 4 or 8.</summary>
    [Id(1)] public int ScaleFactor { get; init; } = 4;

    /// <summary>DDIM steps of the full schedule.</summary>
    [Id(2)] public int Steps { get; init; } = 50;

    /// <summary>img2img strength.</summary>
    [Id(3)] public double Strength { get; init; } = 0.57;

    /// <summary>Seed (the same for every image).</summary>
    [Id(4)] public long Seed { get; init; } = 12345;

    /// <summary>Latent tile size, or null for the export's.</summary>
    [Id(5)] public int? LatentTileSize { get; init; }

    /// <summary>
    /// Refine the INN on each input while sampling (unknown degradation). Off by default, unlike <c>latent-indigo batch</c>
    /// (which refines whenever no degradation is known): with refinement the last bits follow libtorch's thread count
    /// (docs/architecture.md), so workers on different machines could write different bytes for one image, and an image
    /// restored again after a failover must get the same bytes (the idempotent write refuses others).
    /// </summary>
    [Id(6)] public bool Blind { get; init; }

    /// <summary>
    /// The initial estimator: null or <c>bicubic</c> (the default), a network bundled in LatentIndigo.Core
    /// (<see cref="OnnxUpscaleEstimator.BundledNames"/>, e.g. <c>esrgan-slim-x4</c>) or the path of an ONNX
    /// super-resolution model that every worker silo sees at that path. Its scale must be <see cref="ScaleFactor"/>.
    /// Each worker silo loads a network once (<see cref="WorkerModelSet"/>) and shares it among its slots.
    /// </summary>
    [Id(7)] public string? Estimator { get; init; }

    /// <summary>True when <paramref name="name"/> means bicubic upscaling (null or <c>bicubic</c>, any case).</summary>
    public static bool IsBicubic(string? name) => name is null || name.Equals("bicubic", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The <see cref="RestoreOptions"/> these settings stand for, with <paramref name="estimator"/> as the initial
    /// estimator (the network <see cref="Estimator"/> names, loaded by the caller; null for bicubic).
    /// </summary>
    public RestoreOptions ToRestoreOptions(IInitialEstimator? estimator = null) => RestoreOptions.Default with
    {
        Strategy = Enum.Parse<GuidanceStrategy>(Strategy),
        ScaleFactor = ScaleFactor,
        Steps = Steps,
        Strength = Strength,
        Seed = Seed,
        LatentTileSize = LatentTileSize,
        LatentTileOverlap = LatentTileSize / 2 / 8 * 8,
        Blind = Blind,
        InitialEstimator = estimator,
    };
}
