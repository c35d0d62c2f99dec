using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// DDIM (Song et al. 2021) with diffusers' <c>DDIMScheduler</c> conventions: the previous timestep is
/// t − T/N (integer division) whatever the spacing, ᾱ after the last step is 1 or ᾱ_0 (<c>set_alpha_to_one</c>), and
/// η scales the fresh noise: σ_t = η·√((1−ᾱ_prev)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_prev).
/// Update: x_prev = √ᾱ_prev·ẑ0 + √(1−ᾱ_prev−σ_t²)·ε + σ_t·ξ.
/// </summary>
public sealed class DdimSampler : LatentSamplerBase
{
    /// <summary>Builds the sampler from a copy of <paramref name="config"/>.</summary>
    public DdimSampler(SchedulerConfig config) : base(config)
    {
        FinalAlphaCumprod = Config.SetAlphaToOne ? 1.0 : Alphas[0];
    }

    /// <summary>ᾱ used for the step after the last timestep.</summary>
    internal double FinalAlphaCumprod { get; }

    /// <summary>The timestep a step from <paramref name="timestep"/> goes to (negative after the last step).</summary>
    public int PreviousTimestep(int timestep)
    {
        RequireTimesteps();
        return timestep - Config.NumTrainTimesteps / NumInferenceSteps;
    }

    /// <inheritdoc />
    public override SamplerPrediction PredictOriginal(Tensor modelOutput, int timestep, Tensor sample) =>
        PredictOriginalVariancePreserving(modelOutput, timestep, sample);

    /// <inheritdoc />
    public override SamplerStepOutput StepFromOriginal(Tensor predictedOriginal, int timestep, Tensor sample, double eta,
        Tensor? noise, Tensor? predictedNoise = null)
    {
        CheckSameShape(predictedOriginal, sample, nameof(predictedOriginal), nameof(sample));
        CheckTrainTimestep(timestep);
        CheckEta(eta);
        int prev = PreviousTimestep(timestep);
        double aT = Alphas[timestep];
        double aPrev = prev >= 0 ? Alphas[prev] : FinalAlphaCumprod;
        double variance = (1 - aPrev) / (1 - aT) * (1 - aT / aPrev);
        double std = eta * Math.Sqrt(Math.Max(variance, 0));
        double direction = Math.Sqrt(Math.Max(1 - aPrev - std * std, 0));

        using var scope = torch.NewDisposeScope();
        var eps = predictedNoise is null ? EpsilonFromOriginal(predictedOriginal, sample, timestep) : predictedNoise;
        if (predictedNoise is not null)
        {
            CheckSameShape(predictedNoise, sample, nameof(predictedNoise), nameof(sample));
        }
        var prevSample = predictedOriginal * Math.Sqrt(aPrev) + eps * direction;
        if (std > 0)
        {
            var xi = NoiseFor(sample, noise, out _);
            prevSample = prevSample + xi * std;
        }
        return new SamplerStepOutput(prevSample.MoveToOuterDisposeScope(), predictedOriginal, ownsOriginal: false);
    }
}
