using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// One strategy of <c>eval</c>: <c>bicubic</c> (the MATLAB-bicubic upscale, no INN) or a guidance strategy of the pipeline
/// (inn-only, pixel, latent, none), optionally with <c>+blind</c> for pixel and latent (refine the INN on the input; the
/// degradation is then treated as unknown), or a learned estimator: <c>esrgan-slim-x4</c> (or any <c>file.onnx</c>) alone,
/// and <c>esrgan-slim-x4+inn</c> (its output back-projected through the INN, as inn-only does for bicubic).
/// </summary>
/// <param name="Estimator">The estimator (bundled name or file) the strategy upscales with; null for bicubic.</param>
internal sealed record EvalStrategy(string Name, GuidanceStrategy? Guidance, bool Blind, string? Estimator = null)
{
    public const string Bicubic = "bicubic";

    public bool NeedsDiffusion => Guidance is GuidanceStrategy.PixelInn or GuidanceStrategy.LatentInn or GuidanceStrategy.None;

    /// <summary>Parses a comma-separated list; null with an error message when a name is unknown or repeated.</summary>
    public static IReadOnlyList<EvalStrategy>? ParseList(string list, out string? error)
    {
        var strategies = new List<EvalStrategy>();
        error = null;
        foreach (var raw in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string name = raw.ToLowerInvariant();
            bool blind = name.EndsWith("+blind", StringComparison.Ordinal);
            string baseName = blind ? name[..^"+blind".Length] : name;
            if (!blind && Learned(raw) is { } learned)
            {
                if (learned.Estimator is null)
                {
                    error = $"--strategies: '{raw}' names no estimator: use a bundled one ({string.Join(", ", OnnxUpscaleEstimator.BundledNames)}) or an existing .onnx file, alone or with +inn.";
                    return null;
                }
                if (strategies.Any(s => s.Name == learned.Name))
                {
                    error = $"--strategies lists '{raw}' twice (or two files with one name).";
                    return null;
                }
                strategies.Add(learned);
                continue;
            }
            EvalStrategy? strategy = baseName == Bicubic && !blind
                ? new EvalStrategy(Bicubic, null, false)
                : RestoreCommand.ParseStrategy(baseName) is { } guidance && baseName is "inn-only" or "pixel" or "latent" or "none"
                    ? new EvalStrategy(name, guidance, blind)
                    : null;
            if (strategy is { Guidance: GuidanceStrategy.InnOnly or GuidanceStrategy.None, Blind: true })
            {
                error = $"--strategies: '{raw}' has nothing to refine (blind refinement adjusts the INN to the diffusion estimate during sampling). Use pixel+blind or latent+blind.";
                return null;
            }
            if (strategy is null)
            {
                error = $"--strategies: unknown strategy '{raw}'. Use bicubic, inn-only, pixel, latent or none (pixel and latent also with +blind), {string.Join(", ", OnnxUpscaleEstimator.BundledNames)} or a file.onnx (alone or with +inn), comma-separated.";
                return null;
            }
            if (strategies.Any(s => s.Name == strategy.Name))
            {
                error = $"--strategies lists '{raw}' twice.";
                return null;
            }
            strategies.Add(strategy);
        }
        if (strategies.Count == 0)
        {
            error = "--strategies is empty. Use for example bicubic,inn-only.";
            return null;
        }
        return strategies;
    }

    /// <summary>
    /// A learned-estimator strategy (a bundled name or a path ending in .onnx, optionally +inn); null when
    /// <paramref name="raw"/> is not one. Its Estimator is null when the file does not exist. A file's strategy is named
    /// after the file (without .onnx), so its images folder has a plain name.
    /// </summary>
    private static EvalStrategy? Learned(string raw)
    {
        bool inn = raw.EndsWith("+inn", StringComparison.OrdinalIgnoreCase);
        string estimator = inn ? raw[..^"+inn".Length] : raw;
        string? name = EstimatorSupport.IsBundled(estimator) ? estimator.ToLowerInvariant()
            : estimator.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? Path.GetFileNameWithoutExtension(estimator)
            : null;
        if (name is null)
        {
            return null;
        }
        bool exists = EstimatorSupport.IsBundled(estimator) || File.Exists(estimator);
        return new EvalStrategy(inn ? name + "+inn" : name, inn ? GuidanceStrategy.InnOnly : null, false, exists ? estimator : null);
    }
}
