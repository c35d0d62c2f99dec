using BenchmarkDotNet.Attributes;
using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Benchmarks.Diffusion;

/// <summary>
/// The bound UNet step with fp32 and fp16 I/O on STAND-IN models (trivial graph, 64×64 latents, 77×768 embeddings):
/// the cost of converting float32 latents into the bound fp16 buffer and the fp16 output back into a float32 mirror.
/// </summary>
[MemoryDiagnoser]
public class UnetPrecisionBenchmarks
{
    private StandInFolder folder = null!;
    private StableDiffusionModels models = null!;
    private Tensor latents = null!;
    private TextConditioning text = null!;

    /// <summary>fp16 model I/O.</summary>
    [Params(false, true)]
    public bool Float16 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        folder = StandInModelBuilder.CreateTemporary(new StandInOptions { HiddenSize = 768, Float16 = Float16 });
        models = StableDiffusionModels.Load(folder.Path);
        using var g = new Generator(1);
        latents = torch.randn([1, 4, 64, 64], generator: g);
        text = models.EncodePrompt();
        models.Unet.PredictNoise(latents, 1, text);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        latents.Dispose();
        models.Dispose();
        folder.Dispose();
    }

    /// <summary>One bound step.</summary>
    [Benchmark]
    public long BoundStep() => models.Unet.PredictNoise(latents, 501, text).NumberOfElements;
}
