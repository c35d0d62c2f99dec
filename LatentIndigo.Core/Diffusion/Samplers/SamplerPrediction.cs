using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>The first half of a sampler step: the clean estimate ẑ0 and the noise ε implied by the model output.</summary>
public sealed class SamplerPrediction : IDisposable
{
    /// <summary>Creates a prediction that owns both tensors.</summary>
    public SamplerPrediction(Tensor predictedOriginal, Tensor predictedNoise)
    {
        PredictedOriginal = predictedOriginal;
        PredictedNoise = predictedNoise;
    }

    /// <summary>ẑ0, the clean-sample (Tweedie) estimate, clipped when the config asks for it.</summary>
    public Tensor PredictedOriginal { get; }

    /// <summary>ε as predicted by the model (unclipped, as diffusers uses it for the update).</summary>
    public Tensor PredictedNoise { get; }

    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        PredictedOriginal.Dispose();
        PredictedNoise.Dispose();
    }
}
