using LatentIndigo.Diffusion;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>--estimator</c> of restore, eval and batch, and the estimators of eval's strategies: <c>bicubic</c> (the
/// library's default), a bundled network (<see cref="OnnxUpscaleEstimator.BundledNames"/>) or an ONNX file.
/// </summary>
internal static class EstimatorSupport
{
    public const string Bicubic = "bicubic";

    public static string Choices => $"{Bicubic} (default), {string.Join(", ", OnnxUpscaleEstimator.BundledNames)} (bundled ESRGAN from UpscalerJS, MIT) or an ONNX super-resolution model file";

    public static bool IsBicubic(string? name) => name is null || name.Equals(Bicubic, StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when the name can be loaded (bicubic, bundled, an existing file), else the message.</summary>
    public static string? Check(string? name, string option) =>
        IsBicubic(name) || IsBundled(name!) || File.Exists(name)
            ? null
            : $"{option} '{name}' is neither {Bicubic}, a bundled network ({string.Join(", ", OnnxUpscaleEstimator.BundledNames)}) nor an existing .onnx file.";

    public static bool IsBundled(string name) => OnnxUpscaleEstimator.BundledNames.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The network named, on the models' provider; null for bicubic. A scale other than <paramref name="scale"/> is refused.</summary>
    public static OnnxUpscaleEstimator? Load(string? name, int scale, DiffusionModelOptions modelOptions)
    {
        if (IsBicubic(name))
        {
            return null;
        }
        if (Check(name, "--estimator") is { } problem)
        {
            throw new CliUserException(problem);
        }
        var estimator = OnnxUpscaleEstimator.Load(name!, new OnnxUpscaleEstimatorOptions { Session = modelOptions });
        if (estimator.Scale != scale)
        {
            estimator.Dispose();
            throw new CliUserException($"The estimator '{name}' upscales ×{estimator.Scale}, but the restore is ×{scale}: choose a ×{scale} network or --scale {estimator.Scale}.");
        }
        return estimator;
    }
}
