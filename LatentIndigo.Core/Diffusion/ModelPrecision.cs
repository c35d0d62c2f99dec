namespace LatentIndigo.Diffusion;

/// <summary>Floating-point precision of an export's UNet inputs and outputs.</summary>
public enum ModelPrecision
{
    /// <summary>float32.</summary>
    Float32,

    /// <summary>float16 (bound through float16 TorchSharp buffers; the library's math stays float32).</summary>
    Float16,
}

/// <summary>The samplers <see cref="StableDiffusionModels.CreateSampler"/> can make.</summary>
public enum SamplerKind
{
    /// <summary><see cref="DdimSampler"/>.</summary>
    Ddim,

    /// <summary><see cref="DdpmSampler"/>.</summary>
    Ddpm,

    /// <summary><see cref="EulerAncestralSampler"/>.</summary>
    EulerAncestral,
}
