using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>The result of a sampler step.</summary>
public sealed class SamplerStepOutput : IDisposable
{
    private readonly bool ownsOriginal;

    /// <summary>Creates a step result; <paramref name="ownsOriginal"/> says whether disposing it frees the ẑ0 tensor.</summary>
    public SamplerStepOutput(Tensor prevSample, Tensor predictedOriginal, bool ownsOriginal)
    {
        PrevSample = prevSample;
        PredictedOriginal = predictedOriginal;
        this.ownsOriginal = ownsOriginal;
    }

    /// <summary>The sample at the next (smaller) timestep, x_{t−1}.</summary>
    public Tensor PrevSample { get; }

    /// <summary>ẑ0, the clean estimate the update used.</summary>
    public Tensor PredictedOriginal { get; }

    /// <summary>Frees the tensors this result owns.</summary>
    public void Dispose()
    {
        PrevSample.Dispose();
        if (ownsOriginal)
        {
            PredictedOriginal.Dispose();
        }
    }
}
