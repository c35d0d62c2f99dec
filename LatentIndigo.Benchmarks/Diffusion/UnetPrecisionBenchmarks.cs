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
    private StandInFolder _folder = null!;
    private StableDiffusionModels _models = null!;
    private Tensor _latents = null!;
    private TextConditioning _text = null!;

    /// <summary>fp16 model I/O.</summary>
    [Params(false, true)]
    public bool Float16 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = StandInModelBuilder.CreateTemporary(new StandInOptions { HiddenSize = 768, Float16 = Float16 });
        _models = StableDiffusionModels.Load(_folder.Path);
        using var g = new Generator(1);
        _latents = torch.randn([1, 4, 64, 64], generator: g);
        _text = _models.EncodePrompt();
        _models.Unet.PredictNoise(_latents, 1, _text);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _latents.Dispose();
        _models.Dispose();
        _folder.Dispose();
    }

    /// <summary>One bound step.</summary>
    [Benchmark]
    public long BoundStep() => _models.Unet.PredictNoise(_latents, 501, _text).NumberOfElements;
}
