using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Euler ancestral sampling (Karras et al. 2022 / k-diffusion) with diffusers' <c>EulerAncestralDiscreteScheduler</c>
/// conventions. The sample lives in the "σ space" x = x0 + σ·ε with σ_t = √((1−ᾱ_t)/ᾱ_t): noise a start latent with
/// <see cref="AddNoise"/> and feed the UNet <see cref="ScaleModelInput"/> (x/√(σ²+1)). Step from σ to σ_next:
/// σ_up = min(σ_next, η·√(σ_next²(σ²−σ_next²)/σ²)), σ_down = √(σ_next²−σ_up²),
/// x_next = x + (x−ẑ0)/σ·(σ_down−σ) + σ_up·ξ. η = 1 is diffusers' behaviour; η = 0 is plain Euler.
/// Differences from diffusers: linspace timesteps are rounded to integers (diffusers interpolates σ at fractional
/// timesteps), and <c>clip_sample</c> is ignored as there.
/// </summary>
public sealed class EulerAncestralSampler : LatentSamplerBase
{
    private double[] sigmas = [];

    /// <summary>Builds the sampler from a copy of <paramref name="config"/>.</summary>
    public EulerAncestralSampler(SchedulerConfig config) : base(config)
    {
    }

    /// <summary>σ for each inference timestep, followed by a final 0.</summary>
    internal IReadOnlyList<double> Sigmas => sigmas;

    /// <inheritdoc />
    public override double InitNoiseSigma
    {
        get
        {
            RequireTimesteps();
            double max = sigmas[0];
            return Config.TimestepSpacing == TimestepSpacing.Leading ? Math.Sqrt(max * max + 1) : max;
        }
    }

    /// <summary>σ_t = √((1−ᾱ_t)/ᾱ_t) for a training timestep.</summary>
    public double SigmaAt(int timestep)
    {
        CheckTrainTimestep(timestep);
        return Math.Sqrt((1 - Alphas[timestep]) / Alphas[timestep]);
    }

    /// <inheritdoc />
    protected override void OnTimestepsSet(int[] timesteps)
    {
        sigmas = new double[timesteps.Length + 1];
        for (int i = 0; i < timesteps.Length; i++)
        {
            sigmas[i] = SigmaAt(timesteps[i]);
        }
    }

    /// <inheritdoc />
    public override Tensor AddNoise(Tensor original, Tensor noise, int timestep)
    {
        CheckSameShape(original, noise, nameof(original), nameof(noise));
        double sigma = SigmaAt(timestep);
        using var scope = torch.NewDisposeScope();
        return (original + noise * sigma).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor ScaleModelInput(Tensor sample, int timestep)
    {
        double sigma = SigmaAt(timestep);
        using var scope = torch.NewDisposeScope();
        return (sample / Math.Sqrt(sigma * sigma + 1)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override SamplerPrediction PredictOriginal(Tensor modelOutput, int timestep, Tensor sample)
    {
        CheckSameShape(modelOutput, sample, nameof(modelOutput), nameof(sample));
        double sigma = sigmas[IndexOfTimestep(timestep)];
        using var scope = torch.NewDisposeScope();
        var type = Config.PredictionType;
        Tensor x0;
        if (type == PredictionType.Epsilon)
        {
            x0 = sample - modelOutput * sigma;
        }
        else if (type == PredictionType.VPrediction)
        {
            // The UNet saw x/√(σ²+1): in that scale v = √ᾱ·ε − √(1−ᾱ)·x0 with √ᾱ = 1/√(σ²+1).
            x0 = modelOutput * (-sigma / Math.Sqrt(sigma * sigma + 1)) + sample / (sigma * sigma + 1);
        }
        else
        {
            x0 = modelOutput.clone();
        }
        var eps = (sample - x0) / sigma;
        return new SamplerPrediction(x0.MoveToOuterDisposeScope(), eps.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public override SamplerStepOutput StepFromOriginal(Tensor predictedOriginal, int timestep, Tensor sample, double eta,
        Tensor? noise, Tensor? predictedNoise = null)
    {
        CheckSameShape(predictedOriginal, sample, nameof(predictedOriginal), nameof(sample));
        CheckEta(eta);
        int i = IndexOfTimestep(timestep);
        double sigma = sigmas[i], sigmaTo = sigmas[i + 1];
        double sigmaUp = Math.Min(sigmaTo, eta * Math.Sqrt(sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma)));
        double sigmaDown = Math.Sqrt(Math.Max(sigmaTo * sigmaTo - sigmaUp * sigmaUp, 0));

        using var scope = torch.NewDisposeScope();
        if (predictedNoise is not null)
        {
            CheckSameShape(predictedNoise, sample, nameof(predictedNoise), nameof(sample));
        }
        // The derivative dx/dσ is ε; keeping the model's ε or recomputing it from ẑ0 is the same choice as in DDIM.
        var derivative = predictedNoise ?? (sample - predictedOriginal) / sigma;
        var prevSample = sample + derivative * (sigmaDown - sigma);
        if (sigmaUp > 0)
        {
            prevSample = prevSample + NoiseFor(sample, noise, out _) * sigmaUp;
        }
        return new SamplerStepOutput(prevSample.MoveToOuterDisposeScope(), predictedOriginal, ownsOriginal: false);
    }
}
