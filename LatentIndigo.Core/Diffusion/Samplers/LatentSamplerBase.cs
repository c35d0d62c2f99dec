using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// What every sampler here shares: the noise schedule from the config, the inference timesteps, img2img helpers,
/// argument checks and noise drawing. The schedule is kept in float64; tensor updates run in the sample's dtype.
/// </summary>
public abstract class LatentSamplerBase : ILatentSampler
{
    private int[] timesteps = [];
    private bool disposed;

    /// <summary>Builds the schedule from a copy of <paramref name="config"/> (validated).</summary>
    protected LatentSamplerBase(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config.Clone();
        Config.Validate();
        Alphas = NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(Config));
        AlphasCumprod = Array.AsReadOnly(Alphas);
    }

    /// <inheritdoc />
    public SchedulerConfig Config { get; }

    /// <inheritdoc />
    public IReadOnlyList<double> AlphasCumprod { get; }

    /// <summary>ᾱ_t as float64 values (the same numbers as <see cref="AlphasCumprod"/>).</summary>
    protected double[] Alphas { get; }

    /// <inheritdoc />
    public IReadOnlyList<int> Timesteps => timesteps;

    /// <summary>The number of inference steps last given to <see cref="SetTimesteps"/> (0 before).</summary>
    protected int NumInferenceSteps { get; private set; }

    /// <inheritdoc />
    public virtual double InitNoiseSigma => 1.0;

    /// <inheritdoc />
    public Generator? Generator { get; set; }

    /// <inheritdoc />
    public virtual void SetTimesteps(int numInferenceSteps)
    {
        timesteps = InferenceTimesteps.Compute(Config, numInferenceSteps);
        NumInferenceSteps = numInferenceSteps;
        OnTimestepsSet(timesteps);
    }

    /// <summary>Lets a sampler derive per-step tables (e.g. σ) once the timesteps are known.</summary>
    protected virtual void OnTimestepsSet(int[] timesteps)
    {
    }

    /// <inheritdoc />
    public IReadOnlyList<int> TimestepsFrom(int startTimestep)
    {
        RequireTimesteps();
        if (startTimestep < 0 || startTimestep >= Config.NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(startTimestep), startTimestep,
                $"The start timestep must lie in 0..{Config.NumTrainTimesteps - 1}.");
        }
        int first = Array.FindIndex(timesteps, t => t <= startTimestep);
        if (first < 0)
        {
            throw new LatentIndigoException(
                $"No inference timestep is at or below {startTimestep} (the smallest is {timesteps[^1]}); raise the start timestep or use more steps.");
        }
        return timesteps[first..];
    }

    /// <inheritdoc />
    public IReadOnlyList<int> TimestepsForStrength(double strength)
    {
        RequireTimesteps();
        if (!(strength > 0 && strength <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "Strength must lie in (0, 1].");
        }
        int n = timesteps.Length;
        int init = Math.Min((int)(n * strength), n);
        if (init == 0)
        {
            throw new LatentIndigoException(
                $"Strength {strength} with {n} steps leaves no step to run; raise the strength or the number of steps.");
        }
        return timesteps[(n - init)..];
    }

    /// <inheritdoc />
    public virtual Tensor AddNoise(Tensor original, Tensor noise, int timestep)
    {
        CheckSameShape(original, noise, nameof(original), nameof(noise));
        CheckTrainTimestep(timestep);
        double a = Alphas[timestep];
        using var scope = torch.NewDisposeScope();
        return (original * Math.Sqrt(a) + noise * Math.Sqrt(1 - a)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public virtual Tensor ScaleModelInput(Tensor sample, int timestep) => sample.clone();

    /// <inheritdoc />
    public abstract SamplerPrediction PredictOriginal(Tensor modelOutput, int timestep, Tensor sample);

    /// <inheritdoc />
    public abstract SamplerStepOutput StepFromOriginal(Tensor predictedOriginal, int timestep, Tensor sample, double eta,
        Tensor? noise, Tensor? predictedNoise = null);

    /// <inheritdoc />
    public SamplerStepOutput Step(Tensor modelOutput, int timestep, Tensor sample, double eta, Tensor? noise)
    {
        var prediction = PredictOriginal(modelOutput, timestep, sample);
        SamplerStepOutput result;
        try
        {
            result = StepFromOriginal(prediction.PredictedOriginal, timestep, sample, eta, noise, prediction.PredictedNoise);
        }
        catch
        {
            prediction.Dispose();
            throw;
        }
        // The step result takes over ẑ0; ε was only needed for the update.
        prediction.PredictedNoise.Dispose();
        return new SamplerStepOutput(result.PrevSample, prediction.PredictedOriginal, ownsOriginal: true);
    }

    /// <summary>
    /// ẑ0 and ε for a variance-preserving sample x_t = √ᾱ·x0 + √(1−ᾱ)·ε, for each prediction type (diffusers'
    /// DDIM/DDPM formulas); ẑ0 is clipped when the config says so, ε is not.
    /// </summary>
    protected SamplerPrediction PredictOriginalVariancePreserving(Tensor modelOutput, int timestep, Tensor sample)
    {
        CheckSameShape(modelOutput, sample, nameof(modelOutput), nameof(sample));
        CheckTrainTimestep(timestep);
        double a = Alphas[timestep], sa = Math.Sqrt(a), sb = Math.Sqrt(1 - a);
        using var scope = torch.NewDisposeScope();
        Tensor x0, eps;
        var type = Config.PredictionType;
        if (type == PredictionType.Epsilon)
        {
            x0 = (sample - modelOutput * sb) / sa;
            eps = modelOutput.clone();
        }
        else if (type == PredictionType.VPrediction)
        {
            x0 = sample * sa - modelOutput * sb;
            eps = modelOutput * sa + sample * sb;
        }
        else
        {
            x0 = modelOutput.clone();
            eps = (sample - modelOutput * sa) / sb;
        }
        if (Config.ClipSample)
        {
            x0 = x0.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);
        }
        return new SamplerPrediction(x0.MoveToOuterDisposeScope(), eps.MoveToOuterDisposeScope());
    }

    /// <summary>ε recomputed from x_t and ẑ0 under the variance-preserving forward process.</summary>
    protected Tensor EpsilonFromOriginal(Tensor predictedOriginal, Tensor sample, int timestep)
    {
        double a = Alphas[timestep];
        using var scope = torch.NewDisposeScope();
        return ((sample - predictedOriginal * Math.Sqrt(a)) / Math.Sqrt(1 - a)).MoveToOuterDisposeScope();
    }

    /// <summary>The caller's noise (checked) or fresh N(0, I) noise from <see cref="Generator"/>.</summary>
    protected Tensor NoiseFor(Tensor sample, Tensor? noise, out bool owned)
    {
        if (noise is not null)
        {
            CheckSameShape(noise, sample, nameof(noise), nameof(sample));
            owned = false;
            return noise;
        }
        owned = true;
        if (Generator is not null && sample.device_type != DeviceType.CPU)
        {
            // A seeded CPU generator cannot draw on the GPU: draw on the CPU and move, which also gives the same noise
            // on every device for a given seed.
            using var cpuNoise = torch.randn(sample.shape, dtype: sample.dtype, generator: Generator);
            return cpuNoise.to(sample.device);
        }
        return torch.randn(sample.shape, dtype: sample.dtype, device: sample.device, generator: Generator);
    }

    /// <summary>Throws unless <see cref="SetTimesteps"/> was called.</summary>
    protected void RequireTimesteps()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (timesteps.Length == 0)
        {
            throw new InvalidOperationException("Call SetTimesteps(numInferenceSteps) before sampling.");
        }
    }

    /// <summary>Index of <paramref name="timestep"/> in <see cref="Timesteps"/>; throws when it is not one of them.</summary>
    protected int IndexOfTimestep(int timestep)
    {
        RequireTimesteps();
        int i = Array.IndexOf(timesteps, timestep);
        if (i < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep,
                $"Timestep {timestep} is not one of this sampler's {timesteps.Length} inference timesteps ({timesteps[0]}…{timesteps[^1]}).");
        }
        return i;
    }

    /// <summary>Throws unless 0 ≤ t &lt; T.</summary>
    protected void CheckTrainTimestep(int timestep)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (timestep < 0 || timestep >= Config.NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep,
                $"Timesteps must lie in 0..{Config.NumTrainTimesteps - 1}.");
        }
    }

    /// <summary>Throws unless η is a finite number ≥ 0.</summary>
    protected static void CheckEta(double eta)
    {
        if (!(eta >= 0) || double.IsInfinity(eta))
        {
            throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be a finite number >= 0 (0: deterministic).");
        }
    }

    /// <summary>Throws when two tensors that must match in shape do not.</summary>
    protected static void CheckSameShape(Tensor a, Tensor b, string nameA, string nameB)
    {
        ArgumentNullException.ThrowIfNull(a, nameA);
        ArgumentNullException.ThrowIfNull(b, nameB);
        if (!a.shape.SequenceEqual(b.shape))
        {
            throw new ArgumentException(
                $"{nameA} has shape [{string.Join(",", a.shape)}] but {nameB} has [{string.Join(",", b.shape)}]; they must match.", nameA);
        }
    }

    /// <summary>
    /// Marks the sampler as finished: later steps throw <see cref="ObjectDisposedException"/>. The base holds no native
    /// memory; a derived sampler that does frees it by overriding <see cref="Dispose(bool)"/>.
    /// </summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a derived sampler holds; the base only records that it is disposed.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing) => disposed = true;
}
