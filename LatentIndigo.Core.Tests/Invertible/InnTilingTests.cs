using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>The bundled ×4 INN, a photo crop and its untiled forward pass (the reference), shared by the tiling tests.</summary>
public sealed class InnTilingFixture : IDisposable
{
    public InnTilingFixture()
    {
        Inn = BundledInn.Load(BundledInnWeights.BicubicX4);
        // A natural photo crop, 296×360, not a multiple of the tile: it spans 3×4 windows of 128, so every kind of
        // seam, edge and corner is exercised.
        using var image = ImageIO.Load(TestData.Cc0("astronaut.png"));
        Photo = image.narrow(2, 40, 296).narrow(3, 100, 360).contiguous();
        using var noGrad = no_grad();
        Full = Inn.Forward(Photo, null);
    }

    public LiftingInn Inn { get; }

    public Tensor Photo { get; }

    public InnDecomposition Full { get; }

    public void Dispose()
    {
        Full.Dispose();
        Photo.Dispose();
        Inn.Dispose();
    }
}

public class InnTilingTests(InnTilingFixture fixture) : IClassFixture<InnTilingFixture>
{

    [Fact]
    public void Tiled_coarse_band_matches_the_untiled_forward()
    {
        using var noGrad = no_grad();
        using var tiled = new InnTiling(tileSize: 128).Coarse(fixture.Inn, fixture.Photo);
        Assert.Equal(fixture.Full.Coarse.shape, tiled.shape);
        double difference = InnTestHelpers.MaxAbs(fixture.Full.Coarse, tiled);
        Assert.True(difference < 1e-5, $"max difference {difference:E2}");
    }

    [Fact]
    public void Without_a_margin_the_seams_show_so_the_comparison_is_sensitive()
    {
        using var noGrad = no_grad();
        using var tiled = new InnTiling(tileSize: 128, margin: 0).Coarse(fixture.Inn, fixture.Photo);
        Assert.True(InnTestHelpers.MaxAbs(fixture.Full.Coarse, tiled) > 1e-3);
    }

    [Fact]
    public void Tiled_projection_matches_the_untiled_one_and_is_consistent_with_the_observation()
    {
        var inn = fixture.Inn;
        using var noGrad = no_grad();
        var x = fixture.Photo;
        // A smooth estimate and an observation it does not already satisfy.
        using var estimate = nn.functional.avg_pool2d(x, 5, stride: 1, padding: 2, count_include_pad: false);
        using var observation = nn.functional.avg_pool2d(x, 4);
        using var reference = inn.Inverse(observation, inn.Forward(estimate, null).Details, null);
        using var tiled = new InnTiling(tileSize: 128).Project(inn, observation, estimate);
        Assert.True(InnTestHelpers.MaxAbs(reference, tiled) < 1e-4, $"max difference {InnTestHelpers.MaxAbs(reference, tiled):E2}");
        using var degraded = inn.Forward(tiled, null);
        Assert.True(InnTestHelpers.MaxAbs(degraded.Coarse, observation) < 1e-4);
    }

    [Fact]
    public void Small_images_run_untiled_and_give_the_exact_result()
    {
        using var noGrad = no_grad();
        using var tiled = new InnTiling(tileSize: 512).Coarse(fixture.Inn, fixture.Photo);
        Assert.Equal(0.0, InnTestHelpers.MaxAbs(fixture.Full.Coarse, tiled));
    }

    [Fact]
    public void Works_for_other_level_counts_and_channel_counts()
    {
        // A random 4-channel, 3-level network (a latent INN shape): 2^J = 8, so windows snap to multiples of 8.
        using var inn = InnTestHelpers.RandomInn(new LiftingInnOptions { Channels = 4, Offset = 0, Levels = 3 }, seed: 11, scale: 0.3);
        using var noGrad = no_grad();
        using var x = torch.randn(new long[] { 2, 4, 200, 152 }, generator: new Generator(5));
        using var full = inn.Forward(x, null);
        using var tiled = new InnTiling(tileSize: 48, margin: 48).Coarse(inn, x);
        Assert.Equal(new long[] { 2, 4, 25, 19 }, tiled.shape);
        Assert.True(InnTestHelpers.MaxAbs(full.Coarse, tiled) < 1e-4, $"max difference {InnTestHelpers.MaxAbs(full.Coarse, tiled):E2}");
    }

    [Fact]
    public void Rejects_sizes_the_network_cannot_split_and_mismatched_observations()
    {
        var inn = fixture.Inn;
        using var noGrad = no_grad();
        using var odd = torch.rand(1, 3, 30, 32);
        Assert.Contains("divisible by 2^J = 4", Assert.Throws<InnInputException>(() => InnTiling.Default.Coarse(inn, odd)).Message);
        using var x = torch.rand(1, 3, 32, 32);
        using var wrong = torch.rand(1, 3, 16, 16);
        Assert.Contains("divided by 4", Assert.Throws<InnInputException>(() => InnTiling.Default.Project(inn, wrong, x)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InnTiling(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InnTiling(64, -1));
    }

    [Fact]
    public void Cancellation_stops_between_windows()
    {
        using var noGrad = no_grad();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => new InnTiling(tileSize: 64).Coarse(fixture.Inn, fixture.Photo, cancellationToken: cancelled.Token));
    }
}
