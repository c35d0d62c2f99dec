using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
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
public class StrategyBenchmarks : StrategyBenchmarkBase
{
}

/// <summary>The measurement shared by <see cref="StrategyBenchmarks"/> (CPU) and <see cref="CudaStrategyBenchmarks"/>.</summary>
public abstract class StrategyBenchmarkBase
{
    /// <summary>DDIM steps per restore (few on a 2-core CPU, where an SD-like step takes seconds).</summary>
    protected virtual int Steps => UnetCost == "cpu" ? 10 : 2;

    /// <summary>Where the models (and so the whole loop) run.</summary>
    protected virtual ExecutionProviderKind Provider => ExecutionProviderKind.Cpu;

    private StandInFolder? folder;
    private RestorationPipeline pipeline = null!;
    private Tensor input = null!;
    private readonly List<RestoreResult> results = new();

    /// <summary>Stand-in cost: "cpu" (≈5 GFLOP UNet), "sd" (SD-like ≈0.8 TFLOP convolution stack) or "sd21-arch" (SD 2.1-base architecture).</summary>
    [ParamsSource(nameof(UnetCosts))]
    public string UnetCost { get; set; } = "cpu";

    /// <summary>The costs this class measures.</summary>
    public virtual IEnumerable<string> UnetCosts => ["cpu", "sd"];

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
        // The defaults before issue 12, with which the figures in docs/benchmarks.md were taken: no blind refinement,
        // the finish on. Now blind refinement is the default for an unknown degradation and the finish is off.
        Blind = false,
        MeasurementConsistentFinish = true,
    };

    [GlobalSetup]
    public void Setup()
    {
        string modelFolder;
        if (UnetCost == "sd21-arch")
        {
            // SD 2.1-base's real architecture at full size (random weights), written once and kept under the temp directory.
            modelFolder = ArchitectureStandInCache.Sd21Base();
        }
        else
        {
            folder = StandInModelBuilder.CreateTemporary(new StandInOptions
            {
                Cost = UnetCost == "sd" ? StandInCost.SdLike : StandInCost.CpuBenchmark,
                VaeCost = UnetCost == "sd" ? new StandInCost(320, 32) : new StandInCost(128, 8),
                UnetBehavior = StandInUnetBehavior.GaussianDenoiser,
                ExternalData = UnetCost == "sd",
            });
            modelFolder = folder.Path;
        }
        var latentInn = new LiftingInn(new LiftingInnOptions { Channels = 4, Offset = 0, Levels = 2 });
        var models = StableDiffusionModels.Load(modelFolder, new DiffusionModelOptions
        {
            ExecutionProvider = Provider,
            // The full-size architecture's activations at 512² are large: without ONNX Runtime's CPU arena (which keeps
            // every size it ever served) a pixel-guided restore stays within a shared 24 GB machine.
            ConfigureSession = UnetCost == "sd21-arch" && Provider == ExecutionProviderKind.Cpu ? (_, so) => so.EnableCpuMemArena = false : null,
        });
        pipeline = new RestorationPipeline(models, BundledInn.Load(BundledInnWeights.BicubicX4), latentInn);
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
                $"// SHARES | {Provider} | {UnetCost} | {Case} | total {total:F2} s | per step {total / Steps * 1000:F0} ms | UNet {unet / total:P1} | VAE {vae / total:P1} | INN {inn / total:P1} | other {other / total:P1} |"));
        }
        foreach (var r in results)
        {
            r.Dispose();
        }
        results.Clear();
        input.Dispose();
        pipeline.Dispose();
        folder?.Dispose();
    }
}

/// <summary>
/// <see cref="StrategyBenchmarks"/> on the full-size SD 2.1-base architecture stand-in ("sd21-arch": UNet2DConditionModel,
/// AutoencoderKL and OpenCLIP-style text encoder with SD 2.1-base's shapes and random weights, 5 GB written once to the
/// temp directory), CPU, 2 steps, in-process, one warm-up and one measured restore per case (a pixel-guided restore
/// takes minutes on 2 cores). Run with <c>--filter '*ArchitectureStrategy*'</c>.
/// </summary>
[Config(typeof(LongInProcessMonitoringConfig))]
public class ArchitectureStrategyBenchmarks : StrategyBenchmarkBase
{
    /// <inheritdoc />
    public override IEnumerable<string> UnetCosts => ["sd21-arch"];
}

/// <summary>
/// <see cref="StrategyBenchmarks"/> on a GPU: the SD-like stand-in cost, CUDA provider (the INNs follow the models),
/// 28 steps as in a default restore (50-step schedule from strength 0.57). Needs the GPU build
/// (<c>-p:LatentIndigoGpu=true</c>) and CUDA 13; run with <c>--filter '*CudaStrategy*' --inProcess</c>.
/// </summary>
[Config(typeof(InProcessMonitoringConfig))]
public class CudaStrategyBenchmarks : StrategyBenchmarkBase
{
    /// <inheritdoc />
    public override IEnumerable<string> UnetCosts => ["sd"];

    /// <inheritdoc />
    protected override int Steps => 28;

    /// <inheritdoc />
    protected override ExecutionProviderKind Provider => ExecutionProviderKind.Cuda;
}

/// <summary>
/// <see cref="ArchitectureStrategyBenchmarks"/> on a GPU: the full-size SD 2.1-base architecture stand-in (fp32, random
/// weights), CUDA provider, 28 steps as in a default restore. Prepared for the GPU machine by
/// <c>tools/device/sd21-strategy-table.sh</c>; run with <c>--filter '*CudaArchitectureStrategy*'</c>. The stand-in folder
/// is written once to the directory named by <c>LATENTINDIGO_ARCH_STANDIN_DIR</c> (default: under the temp directory).
/// </summary>
[Config(typeof(InProcessMonitoringConfig))]
public class CudaArchitectureStrategyBenchmarks : StrategyBenchmarkBase
{
    /// <inheritdoc />
    public override IEnumerable<string> UnetCosts => ["sd21-arch"];

    /// <inheritdoc />
    protected override int Steps => 28;

    /// <inheritdoc />
    protected override ExecutionProviderKind Provider => ExecutionProviderKind.Cuda;
}

/// <summary>
/// The same job as <see cref="StrategyBenchmarks"/> but in-process: GPU machines may have the .NET runtime without the
/// SDK that BenchmarkDotNet's default toolchain builds with.
/// </summary>
public sealed class InProcessMonitoringConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public InProcessMonitoringConfig()
    {
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(2)
            .WithToolchain(InProcessEmitToolchain.Instance));
    }
}

/// <summary>
/// One warm-up and one measured invocation in-process, with an hour's timeout (the in-process toolchain's default
/// stops a benchmark whose invocation takes more than a few minutes).
/// </summary>
public sealed class LongInProcessMonitoringConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public LongInProcessMonitoringConfig()
    {
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(1)
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(1), logOutput: true)));
    }
}
