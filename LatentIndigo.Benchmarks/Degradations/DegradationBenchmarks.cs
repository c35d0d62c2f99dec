using BenchmarkDotNet.Attributes;
using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Degradations;

/// <summary>Every degradation operator on one 1×3×512×512 float32 image (CPU).</summary>
[MemoryDiagnoser]
public class DegradationBenchmarks
{
    private Tensor image = null!;
    private Generator generator = null!;
    private readonly Dictionary<string, IDegradationModel> models = new()
    {
        ["bicubic:x4"] = DegradationSpec.Parse("bicubic:x4"),
        ["bilinear:x4"] = DegradationSpec.Parse("bilinear:x4"),
        ["area:x4"] = DegradationSpec.Parse("area:x4"),
        ["nearest:x4"] = DegradationSpec.Parse("nearest:x4"),
        ["gauss:sigma=2"] = DegradationSpec.Parse("gauss:sigma=2"),
        ["gauss aniso 21"] = DegradationSpec.Parse("gauss:sigmax=3,sigmay=1,theta=0.5,size=21"),
        ["motion:length=15"] = DegradationSpec.Parse("motion:length=15,angle=30"),
        ["trajectory:length=15"] = DegradationSpec.Parse("trajectory:length=15"),
        ["sinc:cutoff=1.5"] = DegradationSpec.Parse("sinc:cutoff=1.5,size=21"),
        ["noise:sigma=10"] = DegradationSpec.Parse("noise:sigma=10"),
        ["poisson:scale=1"] = DegradationSpec.Parse("poisson:scale=1"),
        ["jpeg:q=40"] = DegradationSpec.Parse("jpeg:q=40"),
        ["chain"] = DegradationSpec.Parse("gauss:sigma=2>bicubic:x4>noise:sigma=5>jpeg:q=40"),
        ["realesrgan:x4"] = DegradationSpec.Parse("realesrgan:x4"),
    };

    /// <summary>The operator, by spec (or a short name).</summary>
    [ParamsSource(nameof(Operators))]
    public string Operator { get; set; } = "";

    /// <summary>All operator keys.</summary>
    public IEnumerable<string> Operators => models.Keys;

    /// <summary>Creates the input and a seeded generator.</summary>
    [GlobalSetup]
    public void Setup()
    {
        generator = new Generator(1234, torch.CPU);
        image = torch.rand([1, 3, 512, 512], generator: generator);
    }

    /// <summary>Frees the input.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        image.Dispose();
        generator.Dispose();
    }

    /// <summary>Applies the operator once.</summary>
    [Benchmark]
    public long Apply()
    {
        using var output = models[Operator].Apply(image, generator);
        return output.shape[2];
    }
}

/// <summary>MATLAB resize: dense weight-matrix matmul against per-tap gather, on 1×3×512×512.</summary>
[MemoryDiagnoser]
public class MatlabResizeBenchmarks
{
    private Tensor image = null!;

    /// <summary>Scale: 0.25 (×4 down), 0.125 (×8 down), 2 (×2 up).</summary>
    [Params(0.25, 0.125, 2.0)]
    public double Scale { get; set; }

    /// <summary>True: dense weight matrix and matmul; false: one gather-multiply-add per tap.</summary>
    [Params(true, false)]
    public bool Dense { get; set; }

    /// <summary>Creates the input.</summary>
    [GlobalSetup]
    public void Setup()
    {
        using var g = new Generator(1, torch.CPU);
        image = torch.rand([1, 3, 512, 512], generator: g);
    }

    /// <summary>Frees the input.</summary>
    [GlobalCleanup]
    public void Cleanup() => image.Dispose();

    /// <summary>One resize.</summary>
    [Benchmark]
    public long Resize()
    {
        var size = (int)(512 * Scale);
        using var output = MatlabResize.Resize(image, size, size, Scale, Scale, MatlabKernel.Cubic, true, Dense ? ResizeEvaluation.Dense : ResizeEvaluation.Taps);
        return output.shape[2];
    }
}
