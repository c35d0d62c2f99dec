namespace LatentIndigo.Guidance;

/// <summary>
/// Makes the guidance of one restore. A pipeline serves concurrent restores, so a guidance (which may keep per-image
/// state) is made per restore from a factory that is shared: implement this to plug a guidance of your own into
/// <c>RestoreOptions.Guidance</c>. <see cref="PixelInnGuidance.Factory"/> and <see cref="LatentInnGuidance.Factory"/>
/// are the paper's two.
/// </summary>
public interface ILatentGuidanceFactory
{
    /// <summary>A short name for logs and results, e.g. "PixelInn".</summary>
    string Name { get; }

    /// <summary>What the guidance compares against: the pipeline prepares the image or its latent accordingly.</summary>
    GuidanceObservation Observation { get; }

    /// <summary>
    /// The guidance for one restore. If it implements <see cref="IDisposable"/>, the pipeline disposes it after the
    /// restore. Throw <see cref="LatentIndigoException"/> with a clear message when the context lacks a part it needs.
    /// </summary>
    ILatentGuidance Create(GuidanceContext context);
}
