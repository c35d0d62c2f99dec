using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// A diffusion sampler (scheduler): pure math over TorchSharp tensors, no model inside. The caller runs the UNet on
/// <see cref="ScaleModelInput"/> of the current sample and hands its output to <see cref="Step"/>, or, to guide the
/// clean estimate, splits the step in two: <see cref="PredictOriginal"/> gives ẑ0 (and ε), the caller replaces ẑ0, and
/// <see cref="StepFromOriginal"/> finishes the update from the replaced ẑ0.
/// </summary>
/// <remarks>
/// Not thread-safe: one sampler per sampling run. Every returned tensor is new and owned by the caller, except where a
/// member says it returns one of the caller's tensors.
/// </remarks>
public interface ILatentSampler : IDisposable
{
    /// <summary>A copy of the configuration the sampler was built from.</summary>
    SchedulerConfig Config { get; }

    /// <summary>ᾱ_t for t = 0…T−1 (T values; plain numbers, so nothing to dispose).</summary>
    IReadOnlyList<double> AlphasCumprod { get; }

    /// <summary>The inference timesteps in sampling order (decreasing). Empty until <see cref="SetTimesteps"/>.</summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>Standard deviation of the initial noise for a run from pure noise (1 for DDIM/DDPM).</summary>
    double InitNoiseSigma { get; }

    /// <summary>Random source for the step noise when a step is given none (null: TorchSharp's global generator).</summary>
    Generator? Generator { get; set; }

    /// <summary>Chooses <paramref name="numInferenceSteps"/> timesteps following <see cref="SchedulerConfig.TimestepSpacing"/>.</summary>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>
    /// The tail of <see cref="Timesteps"/> that an img2img-style run starting at <paramref name="startTimestep"/> uses:
    /// every timestep ≤ <paramref name="startTimestep"/>. Noise the start latent with <see cref="AddNoise"/> at the
    /// first of them.
    /// </summary>
    IReadOnlyList<int> TimestepsFrom(int startTimestep);

    /// <summary>
    /// diffusers' img2img convention: with strength s ∈ (0, 1], the last ⌊N·s⌋ timesteps (s = 1: all of them).
    /// </summary>
    IReadOnlyList<int> TimestepsForStrength(double strength);

    /// <summary>Noises a clean sample to <paramref name="timestep"/> (forward process) with the given noise.</summary>
    Tensor AddNoise(Tensor original, Tensor noise, int timestep);

    /// <summary>The tensor the UNet must see for <paramref name="sample"/> at <paramref name="timestep"/> (a copy for DDIM/DDPM).</summary>
    Tensor ScaleModelInput(Tensor sample, int timestep);

    /// <summary>
    /// First half of a step: the clean estimate ẑ0 (clipped when the config says so) and the noise ε implied by the
    /// model output. This is the guidance hook: replace ẑ0, then call <see cref="StepFromOriginal"/>.
    /// </summary>
    SamplerPrediction PredictOriginal(Tensor modelOutput, int timestep, Tensor sample);

    /// <summary>
    /// Second half of a step: moves <paramref name="sample"/> at <paramref name="timestep"/> to the next timestep
    /// given a (possibly replaced) clean estimate. With <paramref name="predictedNoise"/> null the re-noising ε is
    /// recomputed from <paramref name="predictedOriginal"/> and <paramref name="sample"/> (algorithm.md §7 #10);
    /// pass the model's ε from <see cref="PredictOriginal"/> to keep it instead (INDIGO+'s choice).
    /// <paramref name="noise"/> is the fresh Gaussian noise of a stochastic step (drawn from
    /// <see cref="Generator"/> when null and needed). The result's <c>PredictedOriginal</c> is the caller's
    /// <paramref name="predictedOriginal"/> (not disposed with the result).
    /// </summary>
    SamplerStepOutput StepFromOriginal(Tensor predictedOriginal, int timestep, Tensor sample, double eta, Tensor? noise,
        Tensor? predictedNoise = null);

    /// <summary>
    /// A whole step from the model output: <see cref="PredictOriginal"/> then <see cref="StepFromOriginal"/> with the
    /// model's ε (diffusers' <c>step</c>). <paramref name="eta"/> scales the fresh noise (DDIM's η; see each sampler).
    /// </summary>
    SamplerStepOutput Step(Tensor modelOutput, int timestep, Tensor sample, double eta, Tensor? noise);
}
