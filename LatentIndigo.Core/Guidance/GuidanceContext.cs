using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using static TorchSharp.torch;

namespace LatentIndigo.Guidance;

/// <summary>
/// What a guidance may use for one restore, handed to <see cref="ILatentGuidanceFactory.Create"/>. Everything here
/// belongs to that restore or is shared read-only: the VAE has buffers of its own, and in blind mode the INNs are
/// private copies that the refiners may train (the pipeline's INNs are never changed). The pipeline disposes what it
/// made here after the restore.
/// </summary>
public sealed class GuidanceContext
{
    /// <summary>Creates a context (the pipeline does; tests and custom pipelines may too).</summary>
    internal GuidanceContext(Vae vae, IInvertibleTransform pixelInn, IInvertibleTransform? latentInn, GuidanceSettings settings,
        Device device, InnRefiner? pixelRefiner = null, InnRefiner? latentRefiner = null)
    {
        Vae = vae ?? throw new ArgumentNullException(nameof(vae));
        PixelInn = pixelInn ?? throw new ArgumentNullException(nameof(pixelInn));
        LatentInn = latentInn;
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        Device = device ?? throw new ArgumentNullException(nameof(device));
        PixelRefiner = pixelRefiner;
        LatentRefiner = latentRefiner;
    }

    /// <summary>The export's VAE, with buffers of this restore's own.</summary>
    public Vae Vae { get; }

    /// <summary>The pixel INN at this restore's scale factor.</summary>
    public IInvertibleTransform PixelInn { get; }

    /// <summary>The latent INN at this restore's scale factor, or null when the pipeline has none.</summary>
    public IInvertibleTransform? LatentInn { get; }

    /// <summary>Step size and loss weights from the restore's options.</summary>
    public GuidanceSettings Settings { get; }

    /// <summary>Where the restore runs (tensors handed to the guidance are there).</summary>
    public Device Device { get; }

    /// <summary>In blind mode: the refiner of <see cref="PixelInn"/> (a private copy), already started for this image; else null.</summary>
    public InnRefiner? PixelRefiner { get; }

    /// <summary>In blind mode: the refiner of <see cref="LatentInn"/> (a private copy), already started for this image; else null.</summary>
    public InnRefiner? LatentRefiner { get; }

    /// <summary>
    /// γ for <see cref="PixelInn"/>: its degradation encoder's embedding of the whole observed image
    /// (<see cref="LiftingInn.ConditionFor"/>), or null (ones) when it has none. A copy the caller owns: dispose it.
    /// </summary>
    public Tensor? ClonePixelCondition() => PixelCondition?.clone();

    /// <summary>γ for <see cref="LatentInn"/> from the observed latent E(y), or null (ones). A copy the caller owns: dispose it.</summary>
    public Tensor? CloneLatentCondition() => LatentCondition?.clone();

    // The restore's own γ tensors, read by the built-in guidances during the restore (the pipeline disposes them).
    internal Tensor? PixelCondition { get; init; }

    internal Tensor? LatentCondition { get; init; }
}
