using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// The ONNX Runtime session options of the INNs' generated graphs in a pipeline: the models' execution provider. On
/// CUDA (with the INN's tensors on the GPU, so that the bound buffers are device memory) CUDA graphs are enabled: the
/// INN's thousands of small kernels are captured once per shape and replayed as one launch.
/// </summary>
internal static class InnSessionOptions
{
    /// <summary>Null (the engine's CPU defaults) unless the models run on CUDA and the pipeline's device is that GPU.</summary>
    public static Func<SessionOptions>? For(StableDiffusionModels? models, Device device)
    {
        if (models is null || models.ExecutionProvider != ExecutionProviderKind.Cuda || device.type != DeviceType.CUDA)
        {
            return null;
        }
        string id = Math.Max(device.index, 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return () => Cuda(id, cudaGraphs: true);
    }

    /// <summary>CUDA provider options for device <paramref name="deviceId"/>, CUDA graphs on or off (benchmarks compare both).</summary>
    public static SessionOptions Cuda(string deviceId, bool cudaGraphs)
    {
        var so = InnOnnxRuntime.DefaultCpuOptions();
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(new Dictionary<string, string>
            {
                ["device_id"] = deviceId,
                ["enable_cuda_graph"] = cudaGraphs ? "1" : "0",
            });
            so.AppendExecutionProvider_CUDA(cuda);
            return so;
        }
        catch
        {
            so.Dispose();
            throw;
        }
    }
}
