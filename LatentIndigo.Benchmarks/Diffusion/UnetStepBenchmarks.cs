using BenchmarkDotNet.Attributes;
using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Benchmarks.Diffusion;

/// <summary>
/// One UNet step at 64×64 latents (batch 1, 77×768 text embeddings) on STAND-IN models (not a real SD UNet):
/// LatentIndigo's IOBinding over reused TorchSharp buffers versus the naive path of the existing .NET SD libraries
/// (new NamedOnnxValue inputs and output arrays every step, copied back into a tensor).
/// Cost "none" isolates the per-step overhead; "cpu" adds a ≈5 GFLOP convolution stack (width 128, 4 layers).
/// </summary>
[MemoryDiagnoser]
public class UnetStepBenchmarks
{
    private StandInFolder folder = null!;
    private StableDiffusionModels models = null!;
    private InferenceSession naiveSession = null!;
    private Tensor latents = null!;
    private Tensor states = null!;
    private int step;

    /// <summary>Convolution cost of the stand-in UNet.</summary>
    [Params("none", "cpu")]
    public string Cost { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            HiddenSize = 768,
            Cost = Cost == "cpu" ? StandInCost.CpuBenchmark : null,
        });
        models = StableDiffusionModels.Load(folder.Path);
        naiveSession = new InferenceSession(Path.Combine(folder.Path, "unet", "model.onnx"));
        using var g = new Generator(1);
        latents = torch.randn([1, 4, 64, 64], generator: g);
        states = torch.randn([1, 77, 768], generator: g);
        models.Unet.PredictNoise(latents, 1, states); // allocate the bindings outside the measurement
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        latents.Dispose();
        states.Dispose();
        naiveSession.Dispose();
        models.Dispose();
        folder.Dispose();
    }

    /// <summary>IOBinding: inputs copied into bound TorchSharp buffers, ONNX Runtime writes the bound output buffer.</summary>
    [Benchmark(Baseline = true)]
    public float Bound()
    {
        var output = models.Unet.PredictNoise(latents, NextTimestep(), states);
        return output.NumberOfElements;
    }

    /// <summary>Naive: fresh managed arrays, DenseTensors and NamedOnnxValues in, a fresh output array out, a new tensor made from it.</summary>
    [Benchmark]
    public float Naive()
    {
        var sample = new DenseTensor<float>(latents.data<float>().ToArray(), [1, 4, 64, 64]);
        var timestep = new DenseTensor<long>(new long[] { NextTimestep() }, [1]);
        var states = new DenseTensor<float>(this.states.data<float>().ToArray(), [1, 77, 768]);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("sample", sample),
            NamedOnnxValue.CreateFromTensor("timestep", timestep),
            NamedOnnxValue.CreateFromTensor("encoder_hidden_states", states),
        };
        using var results = naiveSession.Run(inputs);
        var array = results.First(r => r.Name == "out_sample").AsTensor<float>().ToArray();
        using var output = torch.tensor(array, [1, 4, 64, 64]);
        return output.NumberOfElements;
    }

    private int NextTimestep() => 999 - (step++ % 50) * 20;
}
