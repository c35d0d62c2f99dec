using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LatentIndigo.Degradations;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// Issue 24: one whole INN-only restore with a known <c>bicubic:x4</c> degradation (the back-projection through the
/// bundled bicubic-x4 INN, quality figures on, as the CLI runs it), 128² → 512² and 512² → 2048², with the back-projection
/// before issue 24 (<see cref="BackProjectionMethod.Plain"/>: up to 8 plain corrections and a separate INN pass for the
/// consistency figure) and today's (<see cref="BackProjectionMethod.Accelerated"/>), side by side in one process. The
/// input is the CC0 photo samples/data/cc0/astronaut.png (512²; its MATLAB-bicubic ÷4 for 128²). Run with
/// <c>--filter 'LatentIndigo.Benchmarks.Pipeline.InnOnlyRestoreBenchmarks*'</c> (not the CUDA variant).
/// </summary>
[Config(typeof(InnOnlyRestoreConfig))]
public class InnOnlyRestoreBenchmarks
{
    private RestorationPipeline pipeline = null!;
    private Tensor input = null!;
    private IInitialEstimator? estimator;

    /// <summary>Input → output size.</summary>
    [ParamsSource(nameof(Sizes))]
    public string Size { get; set; } = "128→512";

    /// <summary>"128→512" and "512→2048"; LATENTINDIGO_BENCH_SIZES=128 or =512 runs one of them.</summary>
    public static IEnumerable<string> Sizes => (Environment.GetEnvironmentVariable("LATENTINDIGO_BENCH_SIZES") ?? "128,512") switch
    {
        "128" => ["128→512"],
        "512" => ["512→2048"],
        _ => ["128→512", "512→2048"],
    };

    /// <summary>The back-projection: "plain (before #24)" or "accelerated".</summary>
    [Params("plain (before #24)", "accelerated")]
    public string Method { get; set; } = "accelerated";

    private RestoreOptions Options => RestoreOptions.Default with
    {
        Strategy = GuidanceStrategy.InnOnly,
        KnownDegradation = DegradationSpec.Parse("bicubic:x4"),
        BackProjectionMethod = Method.StartsWith("plain", StringComparison.Ordinal) ? BackProjectionMethod.Plain : BackProjectionMethod.Accelerated,
        InitialEstimator = estimator,
    };

    /// <summary>The initial estimate the back-projection starts from: "bicubic" (the default) or a bundled network.</summary>
    [ParamsSource(nameof(Estimators))]
    public string Estimator { get; set; } = "bicubic";

    /// <summary>The estimators this class times (bicubic only on the CPU).</summary>
    public virtual IEnumerable<string> Estimators => ["bicubic"];

    /// <summary>The pipeline the restores run on; on the CPU an INN-only one (no diffusion models).</summary>
    protected virtual RestorationPipeline CreatePipeline() => new(null, BundledInn.Load(BundledInnWeights.BicubicX4));

    /// <summary>The estimator's session options (the CPU's by default).</summary>
    protected virtual OnnxUpscaleEstimatorOptions? EstimatorOptions => null;

    [GlobalSetup]
    public void Setup()
    {
        pipeline = CreatePipeline();
        estimator = Estimator == "bicubic" ? null : OnnxUpscaleEstimator.Load(Estimator, EstimatorOptions);
        using var photo = ImageIO.Load(FindSample("samples/data/cc0/astronaut.png"));
        input = Size.StartsWith("128", StringComparison.Ordinal) ? MatlabBicubic.Resize(photo, 0.25).clamp(0f, 1f) : photo.clone();
    }

    [Benchmark]
    public long Restore()
    {
        using var result = pipeline.Restore(input, Options);
        return result.Image.shape[3];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        input.Dispose();
        pipeline.Dispose();
        (estimator as IDisposable)?.Dispose();
        DisposeResources();
    }

    /// <summary>Frees what <see cref="CreatePipeline"/> made besides the pipeline.</summary>
    protected virtual void DisposeResources()
    {
    }

    /// <summary>The repository file <paramref name="relative"/>, looked for above the working directory and the binaries.</summary>
    private static string FindSample(string relative)
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new FileNotFoundException($"{relative} not found above {Environment.CurrentDirectory}; run the benchmarks from the repository.");
    }
}

/// <summary>
/// <see cref="InnOnlyRestoreBenchmarks"/> on a lent GPU machine (<c>tools/device/gpu-evidence.sh</c>, stage "innonly"; not
/// run in CI): an INN-only restore runs where the pipeline's models are, so the pipeline holds small stand-in models on
/// ONNX Runtime's CUDA provider (never run here: INN-only uses no UNet or VAE) and the INN's passes run as CUDA graphs.
/// Besides bicubic, the bundled ESRGAN-slim ×4 on CUDA as the initial estimate (issue 23's <c>esrgan-slim-x4+inn</c>).
/// </summary>
[Config(typeof(InnOnlyRestoreConfig))]
public class CudaInnOnlyRestoreBenchmarks : InnOnlyRestoreBenchmarks
{
    private StandInFolder? folder;

    /// <inheritdoc />
    public override IEnumerable<string> Estimators => ["bicubic", "esrgan-slim-x4"];

    /// <inheritdoc />
    protected override OnnxUpscaleEstimatorOptions? EstimatorOptions =>
        new() { Session = new DiffusionModelOptions { ExecutionProvider = ExecutionProviderKind.Cuda } };

    /// <inheritdoc />
    protected override RestorationPipeline CreatePipeline()
    {
        folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Cost = StandInCost.CpuBenchmark, VaeCost = new StandInCost(128, 8) });
        var models = StableDiffusionModels.Load(folder.Path, new DiffusionModelOptions { ExecutionProvider = ExecutionProviderKind.Cuda });
        return new RestorationPipeline(models, BundledInn.Load(BundledInnWeights.BicubicX4));
    }

    /// <inheritdoc />
    protected override void DisposeResources() => folder?.Dispose();
}

/// <summary>In-process (both methods in one process), one warm-up and three measured restores per case, an hour's timeout.</summary>
public sealed class InnOnlyRestoreConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public InnOnlyRestoreConfig()
    {
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3)
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(1), logOutput: true)));
    }
}
