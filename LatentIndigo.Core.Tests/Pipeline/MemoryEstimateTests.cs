using LatentIndigo.Pipeline;
using Xunit;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>The memory estimate stays above every peak measured on the CPU (docs/usage.md, "Memory").</summary>
public class MemoryEstimateTests
{
    private const long MiB = 1L << 20;

    // (strategy, output side, tile, measured peak RSS in MiB): /usr/bin/time of the CLI, stand-in models, 2-core machine.
    public static TheoryData<GuidanceStrategy, int, int, int> Measured => new()
    {
        { GuidanceStrategy.InnOnly, 512, 64, 375 },
        // INN-only's back-projection in windows of 2048-pixel cores (issue 24), 2026-12-04, ×4 from 256², 512², 1024².
        { GuidanceStrategy.InnOnly, 1024, 64, 496 },
        { GuidanceStrategy.InnOnly, 2048, 64, 1231 },
        { GuidanceStrategy.InnOnly, 4096, 64, 2353 },
        { GuidanceStrategy.InnOnly, 8000, 64, 7152 }, // 7.5 GB (issue 15)
        { GuidanceStrategy.None, 1024, 64, 516 },
        { GuidanceStrategy.None, 2048, 32, 739 },
        { GuidanceStrategy.None, 2048, 64, 872 },
        { GuidanceStrategy.None, 2048, 128, 1122 },
        { GuidanceStrategy.LatentInn, 2048, 64, 914 },
        { GuidanceStrategy.PixelInn, 512, 64, 1919 },
        { GuidanceStrategy.PixelInn, 1024, 64, 3146 },
        { GuidanceStrategy.PixelInn, 2048, 64, 4327 },
        { GuidanceStrategy.PixelInn, 2048, 32, 1704 },
        // 4000×4000 at ×1 (16 MP, the default limit), 2026-11-27: --steps 4 (2) --strength 0.5, pixel 1 step.
        { GuidanceStrategy.InnOnly, 4000, 64, 2077 },
        { GuidanceStrategy.None, 4000, 64, 2543 },
        { GuidanceStrategy.LatentInn, 4000, 64, 2656 },
        { GuidanceStrategy.PixelInn, 4000, 64, 3151 },
    };

    [Theory]
    [MemberData(nameof(Measured))]
    public void Estimate_is_above_the_measured_peak(GuidanceStrategy strategy, int outputSide, int tile, int measuredMiB)
    {
        var options = RestoreOptions.Default with
        {
            Strategy = strategy, ScaleFactor = 1, LatentTileSize = tile, LatentTileOverlap = tile / 2,
            MaxOutputPixels = long.MaxValue,
        };
        long estimate = options.EstimatePeakMemoryBytes(outputSide, outputSide);
        Assert.True(estimate >= measuredMiB * MiB, $"{strategy} {outputSide}² tile {tile}: estimate {estimate / MiB} MiB < measured {measuredMiB} MiB");
        Assert.True(estimate <= 5 * measuredMiB * MiB / 2 + 1500 * MiB, $"estimate {estimate / MiB} MiB is far above measured {measuredMiB} MiB");
    }

    [Fact]
    public void Default_limit_fits_the_documented_memory()
    {
        var options = RestoreOptions.Default; // PixelInn, tile 64, ×4
        int side = (int)Math.Sqrt(options.MaxOutputPixels) / options.ScaleFactor;
        Assert.InRange(options.EstimatePeakMemoryBytes(side, side), 7L << 30, 8L << 30);
        Assert.True((options with { Strategy = GuidanceStrategy.InnOnly }).EstimatePeakMemoryBytes(side, side) < 3L << 30);
    }

    [Fact]
    public void Estimate_grows_with_scale_tile_and_batch()
    {
        var o = RestoreOptions.Default;
        Assert.True(o.EstimatePeakMemoryBytes(100, 100) < (o with { ScaleFactor = 8 }).EstimatePeakMemoryBytes(100, 100));
        Assert.True(o.EstimatePeakMemoryBytes(100, 100) < (o with { TileBatchSize = 4 }).EstimatePeakMemoryBytes(100, 100));
        Assert.True((o with { LatentTileSize = 32, LatentTileOverlap = 16 }).EstimatePeakMemoryBytes(100, 100) < o.EstimatePeakMemoryBytes(100, 100));
    }
}
