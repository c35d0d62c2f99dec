using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Ancestral DDPM (Ho et al. 2020) with diffusers' <c>DDPMScheduler</c> conventions (variance "fixed_small", previous
/// timestep = the next inference timestep, ᾱ = 1 after the last one). The update is the posterior q(x_prev | x_t, ẑ0):
/// mean = √ᾱ_prev·β'/(1−ᾱ_t)·ẑ0 + √α'·(1−ᾱ_prev)/(1−ᾱ_t)·x_t with α' = ᾱ_t/ᾱ_prev, β' = 1−α', variance
/// σ² = (1−ᾱ_prev)/(1−ᾱ_t)·β'. It is written as √ᾱ_prev·ẑ0 + √(1−ᾱ_prev−σ²)·ε, which is the same mean when ε is
/// recomputed from ẑ0 and lets a caller keep the model's ε instead. <c>eta</c> scales the noise only (1 = DDPM,
/// 0 = posterior mean).
/// </summary>
public sealed class DdpmSampler : LatentSamplerBase
{
    /// <summary>Builds the sampler from a copy of <paramref name="config"/>.</summary>
    public DdpmSampler(SchedulerConfig config) : base(config)
    {
    }

    /// <summary>The timestep a step from <paramref name="timestep"/> goes to (−1 after the last one).</summary>
    public int PreviousTimestep(int timestep)
    {
        int i = IndexOfTimestep(timestep);
        return i + 1 < Timesteps.Count ? Timesteps[i + 1] : -1;
    }

    /// <inheritdoc />
    public override SamplerPrediction PredictOriginal(Tensor modelOutput, int timestep, Tensor sample) =>
        PredictOriginalVariancePreserving(modelOutput, timestep, sample);

    /// <inheritdoc />
    public override SamplerStepOutput StepFromOriginal(Tensor predictedOriginal, int timestep, Tensor sample, double eta,
        Tensor? noise, Tensor? predictedNoise = null)
    {
        CheckSameShape(predictedOriginal, sample, nameof(predictedOriginal), nameof(sample));
        CheckEta(eta);
        int prev = PreviousTimestep(timestep);
        double aT = Alphas[timestep];
        double aPrev = prev >= 0 ? Alphas[prev] : 1.0;
        double currentBeta = 1 - aT / aPrev;
        double variance = Math.Max((1 - aPrev) / (1 - aT) * currentBeta, 1e-20);
        double direction = Math.Sqrt(Math.Max(1 - aPrev - variance, 0));
        double std = timestep > 0 ? eta * Math.Sqrt(variance) : 0;

        using var scope = torch.NewDisposeScope();
        if (predictedNoise is not null)
        {
            CheckSameShape(predictedNoise, sample, nameof(predictedNoise), nameof(sample));
        }
        var eps = predictedNoise ?? EpsilonFromOriginal(predictedOriginal, sample, timestep);
        var prevSample = predictedOriginal * Math.Sqrt(aPrev) + eps * direction;
        if (std > 0)
        {
            prevSample = prevSample + NoiseFor(sample, noise, out _) * std;
        }
        return new SamplerStepOutput(prevSample.MoveToOuterDisposeScope(), predictedOriginal, ownsOriginal: false);
    }
}
