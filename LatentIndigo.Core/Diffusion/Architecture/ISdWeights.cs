namespace LatentIndigo.Diffusion.Architecture;

/// <summary>What a parameter of the SD architecture is (a source of random stand-in weights draws each kind its own way).</summary>
internal enum SdTensorRole
{
    /// <summary>A convolution or linear weight (fan-in scaled).</summary>
    Weight,

    /// <summary>A token or position embedding table.</summary>
    Embedding,

    /// <summary>A GroupNorm / LayerNorm scale (about 1).</summary>
    NormScale,

    /// <summary>A bias or a normalisation shift (about 0).</summary>
    Bias,
}

/// <summary>
/// Where the SD graphs' parameters come from: random stand-in weights drawn by name, or a checkpoint's tensors. Names
/// and shapes are PyTorch's (diffusers' UNet2DConditionModel / AutoencoderKL and transformers' CLIPTextModel state
/// dicts; a linear weight is [out, in]); the graph builder transposes what ONNX wants transposed.
/// </summary>
internal interface ISdWeights
{
    /// <summary>The values of tensor <paramref name="name"/>, row-major float32, with exactly <paramref name="shape"/>.</summary>
    float[] Read(string name, long[] shape, SdTensorRole role);
}
