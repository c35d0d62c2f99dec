using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LatentIndigo.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// Time of one initial estimate (×4) per image of the Kodak evaluation's size: a 192×128 input (768×512 output), on the
/// CPU, side by side: MATLAB bicubic (<see cref="BicubicUpscaleEstimator"/>), the bundled ESRGAN-slim ×4 and, when
/// <c>LATENTINDIGO_ESRGAN_THICK</c> names the converted UpscalerJS esrgan-thick ×4 file
/// (samples/data/estimators/README.md: one <c>convert-tfjs</c> command), ESRGAN-thick ×4. Without it the thick case is
/// left out and a line says so. The networks run on ONNX Runtime's CPU provider with its default threads; the input
/// fits one tile (<see cref="OnnxUpscaleEstimatorOptions.TileSize"/> 192), so no seam blending is timed. In-process (one
/// job, no generated project to build), one warm-up and 5 measured estimates per case: run with
/// <c>--filter 'LatentIndigo.Benchmarks.Pipeline.EstimatorBenchmarks*'</c> (the plain pattern would also pick <see cref="CudaEstimatorBenchmarks"/>) and no job options.
/// </summary>
[Config(typeof(EstimatorBenchmarkConfig))]
public class EstimatorBenchmarks
{
    /// <summary>The environment variable naming the converted esrgan-thick ×4 ONNX file.</summary>
    public const string ThickVariable = "LATENTINDIGO_ESRGAN_THICK";

    private IInitialEstimator estimator = null!;
    private Tensor input = null!;

    /// <summary>bicubic, esrgan-slim-x4, and esrgan-thick-x4 when its file is given.</summary>
    [ParamsSource(nameof(Estimators))]
    public string Estimator { get; set; } = "bicubic";

    /// <summary>The cases: the thick network only when <see cref="ThickVariable"/> names an existing file.</summary>
    public virtual IEnumerable<string> Estimators => Names();

    /// <summary>The networks' session options (null: the CPU with ONNX Runtime's defaults).</summary>
    protected virtual OnnxUpscaleEstimatorOptions? SessionOptions => null;

    /// <summary>Input width and height (the Kodak evaluation's 192×128).</summary>
    protected virtual (int Width, int Height) InputSize => (192, 128);

    /// <summary>The estimators to time: bicubic, the bundled slim ×4, the thick ×4 when its file is given.</summary>
    internal static IEnumerable<string> Names()
    {
        yield return "bicubic";
        yield return "esrgan-slim-x4";
        if (Environment.GetEnvironmentVariable(ThickVariable) is { Length: > 0 } path && File.Exists(path))
        {
            yield return "esrgan-thick-x4";
        }
        else
        {
            Console.WriteLine($"// esrgan-thick-x4 skipped: set {ThickVariable} to the converted esrgan-thick ×4 .onnx " +
                "(samples/data/estimators/README.md shows the convert-tfjs command) to time it too.");
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        estimator = Estimator switch
        {
            "bicubic" => BicubicUpscaleEstimator.Instance,
            "esrgan-thick-x4" => OnnxUpscaleEstimator.Load(Environment.GetEnvironmentVariable(ThickVariable)!, SessionOptions),
            _ => OnnxUpscaleEstimator.Load(Estimator, SessionOptions),
        };
        var generator = new torch.Generator(2026);
        input = torch.rand([1, 3, InputSize.Height, InputSize.Width], generator: generator);
        // One estimate outside the measurement: ONNX Runtime's first run plans memory and picks kernels.
        estimator.Estimate(input, 4).Dispose();
    }

    /// <summary>One ×4 estimate.</summary>
    [Benchmark]
    public long Estimate()
    {
        using var output = estimator.Estimate(input, 4);
        return output.shape[3];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        (estimator as IDisposable)?.Dispose();
        input.Dispose();
    }
}

/// <summary>In-process, <see cref="RunStrategy.Monitoring"/>, one warm-up and 5 measured invocations, an hour's timeout
/// (a thick estimate takes tens of seconds on a busy 2-core machine).</summary>
public sealed class EstimatorBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public EstimatorBenchmarkConfig()
    {
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5)
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(1), logOutput: true)));
    }
}
