using Microsoft.ML.OnnxRuntime;

namespace LatentIndigo.Diffusion;

/// <summary>Where ONNX Runtime runs the models.</summary>
public enum ExecutionProviderKind
{
    /// <summary>ONNX Runtime's CPU provider (the default; works with the CPU package).</summary>
    Cpu,

    /// <summary>NVIDIA CUDA: needs the Microsoft.ML.OnnxRuntime.Gpu package and CUDA 13 with cuDNN 9.</summary>
    Cuda,
}

/// <summary>The four networks of a Stable Diffusion export, and the optional super-resolution estimator.</summary>
public enum DiffusionModelKind
{
    /// <summary><c>unet/model.onnx</c>.</summary>
    Unet,

    /// <summary><c>vae_encoder/model.onnx</c>.</summary>
    VaeEncoder,

    /// <summary><c>vae_decoder/model.onnx</c>.</summary>
    VaeDecoder,

    /// <summary><c>text_encoder/model.onnx</c>.</summary>
    TextEncoder,

    /// <summary>A super-resolution network run as the initial estimator (<c>OnnxUpscaleEstimator</c>), not part of the export.</summary>
    Upscaler,
}

/// <summary>How <see cref="StableDiffusionModels.Load"/> creates its ONNX Runtime sessions.</summary>
public sealed record DiffusionModelOptions
{
    /// <summary>The provider to run on (default CPU).</summary>
    public ExecutionProviderKind ExecutionProvider { get; init; } = ExecutionProviderKind.Cpu;

    /// <summary>CUDA device ordinal (with <see cref="ExecutionProviderKind.Cuda"/>).</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>Upper bound in bytes on ONNX Runtime's CUDA memory arena (null: no limit).</summary>
    public long? CudaMemoryLimitBytes { get; init; }

    /// <summary>
    /// When CUDA was requested but cannot be loaded, log a warning and run on the CPU instead of throwing
    /// <see cref="ExecutionProviderUnavailableException"/>. Off by default: a silent 50× slowdown is worse than an error.
    /// </summary>
    public bool AllowCpuFallback { get; init; }

    /// <summary>Intra-op threads of the CPU provider (null: ONNX Runtime's default, all cores).</summary>
    public int? IntraOpNumThreads { get; init; }

    /// <summary>
    /// Let ONNX Runtime's idle CPU worker threads spin between runs (its default). Off here: TorchSharp computes between
    /// UNet runs and spinning workers take its cores; turn on only when nothing else runs between runs.
    /// </summary>
    public bool AllowThreadSpinning { get; init; }

    /// <summary>
    /// Keep the sampling head of a <c>latent_sample</c> VAE encoder (an unseeded <c>RandomNormalLike</c>, as the
    /// diffusers script, the Hub's <c>onnx</c> branches, Olive and optimum before Oct 2024 export it). Off by default:
    /// LatentIndigo rewrites that node to zeros at load so encodes return the posterior mean and a seed reproduces a
    /// run; with this on, every encode draws new noise (std exp(½·logvar)) and runs differ.
    /// </summary>
    public bool KeepEncoderSampling { get; init; }

    /// <summary>
    /// Called for each model after LatentIndigo has configured its <see cref="SessionOptions"/> and before the session
    /// is created: set graph optimisation levels, profiling, extra providers and the like here.
    /// </summary>
    public Action<DiffusionModelKind, SessionOptions>? ConfigureSession { get; init; }

    /// <summary>Checks every setting and lists all problems in one exception.</summary>
    /// <exception cref="LatentIndigoException">A setting is out of range; the message names each one.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(ExecutionProvider)) problems.Add($"ExecutionProvider = {ExecutionProvider} (use Cpu or Cuda)");
        if (CudaDeviceId < 0) problems.Add($"CudaDeviceId = {CudaDeviceId} (must be ≥ 0)");
        if (CudaMemoryLimitBytes is <= 0) problems.Add($"CudaMemoryLimitBytes = {CudaMemoryLimitBytes} (must be > 0, or null for no limit)");
        if (IntraOpNumThreads is < 1 or > 4096) problems.Add($"IntraOpNumThreads = {IntraOpNumThreads} (must be 1..4096, or null for ONNX Runtime's default)");
        if (problems.Count > 0)
        {
            throw new LatentIndigoException("Invalid DiffusionModelOptions: " + string.Join("; ", problems) + ".");
        }
    }
}
