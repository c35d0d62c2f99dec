using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Cli;

/// <summary>NaN and ∞ are stopped where they arise (INN weights at load, each model output), naming the file or stage.</summary>
public class NonFiniteTests
{
    private static string SmallLq => Path.Combine(TestData.Root, "lq", "chelsea_x4.png");

    private static void Poison(LiftingInn inn, string key, float value)
    {
        using var noGrad = no_grad();
        var weight = inn.state_dict()[key];
        weight.view(-1)[3] = torch.tensor(value);
    }

    [Theory]
    [InlineData(".inn", float.NaN)]
    [InlineData(".inn", float.PositiveInfinity)]
    [InlineData(".pth", float.NaN)]
    public void Inn_file_with_a_non_finite_weight_is_refused_at_load_by_the_command(string extension, float value)
    {
        using var folder = TestData.NewTempFolder();
        string path = folder.File("poisoned" + extension);
        using (var inn = BundledInn.Load(BundledInnWeights.BicubicX4))
        {
            string key = inn.state_dict().Keys.First(k => k.EndsWith("weight", StringComparison.Ordinal));
            Poison(inn, key, value);
            if (extension == ".pth")
            {
                inn.SavePyTorchStateDict(path);
            }
            else
            {
                inn.Save(path);
            }
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, output) = CliRun.Run("restore", SmallLq, "-o", folder.File("out.png"), "--inn", path);
        Assert.Equal(1, code);
        Assert.Contains("poisoned" + extension, output);
        Assert.Contains("NaN or infinite weights", output);
        Assert.False(CliRun.HasStackTrace(output), output);
        Assert.False(File.Exists(folder.File("out.png")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"refused only after {clock.Elapsed}");
    }

    [Fact]
    public void Clean_inn_file_still_loads()
    {
        using var folder = TestData.NewTempFolder();
        using (var inn = BundledInn.Load(BundledInnWeights.BicubicX4))
        {
            inn.Save(folder.File("clean.inn"));
        }
        using var loaded = LiftingInn.Load(folder.File("clean.inn"));
        Assert.Equal(3, loaded.Channels);
    }

    [Fact]
    public void Vae_encoder_overflow_is_reported_by_the_command_naming_the_stage()
    {
        // A VAE config whose scaling factor overflows float32 makes the encoder's latents infinite: a model output gone bad.
        using var standIn = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            UnetBehavior = StandInUnetBehavior.GaussianDenoiser,
            ScalingFactor = 3e38,
        });
        using var folder = TestData.NewTempFolder();
        var (code, output) = CliRun.Run("restore", SmallLq, "-o", folder.File("out.png"), "--model", standIn.Path, "--steps", "4");
        Assert.Equal(1, code);
        Assert.Contains("VAE encoder output", output);
        Assert.Contains("NaN or infinite", output);
        Assert.False(CliRun.HasStackTrace(output), output);
        Assert.False(File.Exists(folder.File("out.png")));
    }

    private sealed class NaNEstimator : IInitialEstimator
    {
        public Tensor Estimate(Tensor lowQuality, int scaleFactor, CancellationToken cancellationToken = default) =>
            torch.full(new long[] { 1, 3, lowQuality.shape[2] * scaleFactor, lowQuality.shape[3] * scaleFactor }, float.NaN);
    }

    [Fact]
    public void Non_finite_initial_estimate_is_reported_as_such()
    {
        using var pipeline = new RestorationPipeline(null, BundledInn.Load(BundledInnWeights.BicubicX4));
        using var y = torch.rand(1, 3, 8, 8, generator: new Generator(1));
        var ex = Assert.Throws<NonFiniteValuesException>(() =>
            pipeline.Restore(y, RestoreOptions.Default with { Strategy = GuidanceStrategy.InnOnly, InitialEstimator = new NaNEstimator() }));
        Assert.Contains("initial estimate", ex.Stage);
        Assert.Contains(nameof(NaNEstimator), ex.Message);
    }

    [Fact]
    public void Inn_producing_nan_during_guidance_is_reported_at_the_guidance_stage()
    {
        using var standIn = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetBehavior = StandInUnetBehavior.GaussianDenoiser });
        // Weights poisoned in memory (files are refused at load): the guidance step is the first to use the INN.
        var inn = BundledInn.Load(BundledInnWeights.BicubicX4);
        Poison(inn, inn.state_dict().Keys.First(k => k.EndsWith("weight", StringComparison.Ordinal)), float.NaN);
        using var pipeline = new RestorationPipeline(StableDiffusionModels.Load(standIn.Path), inn);
        using var y = torch.rand(1, 3, 8, 8, generator: new Generator(1));
        var ex = Assert.Throws<NonFiniteValuesException>(() =>
            pipeline.Restore(y, RestoreOptions.Default with { Strategy = GuidanceStrategy.PixelInn, Steps = 4, Strength = 0.5, ScaleFactor = 4 }));
        Assert.StartsWith("PixelInn guidance (INN) at step ", ex.Stage);
    }
}
