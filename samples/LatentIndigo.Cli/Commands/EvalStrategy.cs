using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// One strategy of <c>eval</c>: <c>bicubic</c> (the MATLAB-bicubic upscale, no INN) or a guidance strategy of the pipeline
/// (inn-only, pixel, latent, none), optionally with <c>+blind</c> for pixel and latent (refine the INN on the input; the
/// degradation is then treated as unknown).
/// </summary>
internal sealed record EvalStrategy(string Name, GuidanceStrategy? Guidance, bool Blind)
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
                error = $"--strategies: unknown strategy '{raw}'. Use bicubic, inn-only, pixel, latent or none (pixel and latent also with +blind), comma-separated.";
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
}
