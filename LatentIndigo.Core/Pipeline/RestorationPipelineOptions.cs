using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;

namespace LatentIndigo.Pipeline;

/// <summary>What <see cref="RestorationPipeline.Load"/> loads besides the Stable Diffusion export.</summary>
public sealed record RestorationPipelineOptions
{
    /// <summary>ONNX Runtime options of the diffusion models (provider, threads, session hook).</summary>
    public DiffusionModelOptions? Models { get; init; }

    /// <summary>Pixel INN weights saved by <c>train-inn</c> (or an INDIGO+ <c>.pth</c>); null uses <see cref="BundledPixelInn"/>.</summary>
    public string? PixelInnPath { get; init; }

    /// <summary>
    /// The bundled pixel INN of the library and the CLI when no other is named: <see cref="BundledInnWeights.BicubicX4"/>.
    /// Chosen by measurement (docs/algorithm.md §5): with back-projection it keeps INN-only restoration at least as good
    /// as bicubic under clean, JPEG, noisy and Real-ESRGAN degradations; unknown degradations are met by blind
    /// refinement during diffusion.
    /// </summary>
    public static BundledInnWeights DefaultBundledPixelInn => BundledInnWeights.BicubicX4;

    /// <summary>The bundled pixel INN used when <see cref="PixelInnPath"/> is null. Default: <see cref="DefaultBundledPixelInn"/>.</summary>
    public BundledInnWeights BundledPixelInn { get; init; } = DefaultBundledPixelInn;

    /// <summary>Latent INN weights trained for the export's VAE (<c>train-inn --latent</c>); needed for latent guidance.</summary>
    public string? LatentInnPath { get; init; }

    /// <summary>Restores that run at once on the loaded pipeline; more wait in line. Default 1.</summary>
    public int MaxConcurrentRestores { get; init; } = 1;

    /// <summary>
    /// Which runtime runs the INNs' guidance gradient and no-gradient passes (finish, quality figure, INN-only restore):
    /// <see cref="InnEngine.Auto"/> (default) uses generated ONNX graphs on the models' execution provider for float32
    /// INNs; <see cref="InnEngine.TorchSharp"/> is the fallback. Blind refinement always uses TorchSharp.
    /// </summary>
    public InnEngine InnEngine { get; init; } = InnEngine.Auto;

    /// <summary>Checks every setting and lists all problems in one exception.</summary>
    /// <exception cref="LatentIndigoException">A setting is out of range; the message names each one.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxConcurrentRestores < 1) problems.Add($"MaxConcurrentRestores = {MaxConcurrentRestores} (must be ≥ 1)");
        if (!Enum.IsDefined(BundledPixelInn)) problems.Add($"BundledPixelInn = {BundledPixelInn} (not a bundled INN)");
        if (!Enum.IsDefined(InnEngine)) problems.Add($"InnEngine = {InnEngine} (use Auto, OnnxRuntime or TorchSharp)");
        try
        {
            Models?.Validate();
        }
        catch (LatentIndigoException ex)
        {
            problems.Add(ex.Message);
        }
        if (problems.Count > 0)
        {
            throw new LatentIndigoException("Invalid RestorationPipelineOptions: " + string.Join("; ", problems) + ".");
        }
    }
}
