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

    /// <summary>The <see cref="RestoreOptions"/> these settings stand for.</summary>
    public RestoreOptions ToRestoreOptions() => RestoreOptions.Default with
    {
        Strategy = Enum.Parse<GuidanceStrategy>(Strategy),
        ScaleFactor = ScaleFactor,
        Steps = Steps,
        Strength = Strength,
        Seed = Seed,
        LatentTileSize = LatentTileSize,
        LatentTileOverlap = LatentTileSize / 2 / 8 * 8,
        Blind = Blind,
    };
}
