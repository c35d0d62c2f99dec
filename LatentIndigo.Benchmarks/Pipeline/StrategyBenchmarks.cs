using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// One whole restoration at 512×512 output (128×128 input, ×4, one 64×64 latent tile, DDIM from pure noise) per
/// guidance strategy, on realistic-cost STAND-IN models (not real SD weights). Cost "cpu": a UNet of ≈5 GFLOP per step
/// (<see cref="StandInCost.CpuBenchmark"/>) and VAE encoder/decoder stacks of ≈10 GFLOP, 10 steps. Cost "sd": a UNet of
/// SD's ≈0.8 TFLOP per step (<see cref="StandInCost.SdLike"/>) and VAE stacks of ≈0.27 TFLOP, 2 steps. Quality metrics
/// are off (they are not part of the algorithm). Besides the time per restore, the cleanup prints how the time splits
/// into UNet, VAE, INN and everything else, from the pipeline's own timers, averaged over the measured invocations.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 2)]
public class StrategyBenchmarks
{
    private int Steps => UnetCost == "sd" ? 2 : 10;
    private StandInFolder folder = null!;
    private RestorationPipeline pipeline = null!;
    private Tensor input = null!;
    private readonly List<RestoreResult> results = new();

    /// <summary>Stand-in cost: "cpu" (≈5 GFLOP UNet) or "sd" (SD-like ≈0.8 TFLOP UNet).</summary>
    [Params("cpu", "sd")]
    public string UnetCost { get; set; } = "cpu";

    /// <summary>The case: strategy, with manifold regularisation at its default or off.</summary>
    [Params("None", "LatentInn-no-manifold", "LatentInn", "PixelInn-no-manifold", "PixelInn")]
    public string Case { get; set; } = "None";

    private RestoreOptions Options => RestoreOptions.Default with
    {
        Strategy = Case.StartsWith("LatentInn", StringComparison.Ordinal) ? GuidanceStrategy.LatentInn
            : Case.StartsWith("PixelInn", StringComparison.Ordinal) ? GuidanceStrategy.PixelInn : GuidanceStrategy.None,
        ManifoldRegularization = !Case.EndsWith("no-manifold", StringComparison.Ordinal),
        Steps = Steps,
        Strength = 1.0,
        ComputeQualityMetrics = false,
    };

    [GlobalSetup]
    public void Setup()
    {
        folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            Cost = UnetCost == "sd" ? StandInCost.SdLike : StandInCost.CpuBenchmark,
            VaeCost = UnetCost == "sd" ? new StandInCost(320, 32) : new StandInCost(128, 8),
            UnetBehavior = StandInUnetBehavior.GaussianDenoiser,
        });
        var latentInn = new LiftingInn(new LiftingInnOptions { Channels = 4, Offset = 0, Levels = 2 });
        pipeline = new RestorationPipeline(StableDiffusionModels.Load(folder.Path), BundledInn.Load(BundledInnWeights.BicubicX4), latentInn);
        input = torch.rand(new long[] { 1, 3, 128, 128 }, generator: new Generator(1));
    }

    [Benchmark]
    public long Restore()
    {
        var result = pipeline.Restore(input, Options);
        results.Add(result);
        return result.Image.shape[3];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Skip the warm-up invocation: the rest are the measured ones.
        var measured = results.Skip(1).ToList();
        if (measured.Count > 0)
        {
            double total = measured.Average(r => r.Total.TotalSeconds);
            double unet = measured.Average(r => r.UnetTime.TotalSeconds);
            double vae = measured.Average(r => r.VaeTime.TotalSeconds);
            double inn = measured.Average(r => r.InnTime.TotalSeconds);
            double other = total - unet - vae - inn;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// SHARES | {UnetCost} | {Case} | total {total:F2} s | per step {total / Steps * 1000:F0} ms | UNet {unet / total:P1} | VAE {vae / total:P1} | INN {inn / total:P1} | other {other / total:P1} |"));
        }
        foreach (var r in results)
        {
            r.Dispose();
        }
        results.Clear();
        input.Dispose();
        pipeline.Dispose();
        folder.Dispose();
    }
}
