namespace LatentIndigo.Pipeline;

/// <summary>
/// The names of the guidance strategies as users type them (the CLI's <c>--strategy</c>, the web sample's
/// <c>strategy</c> field): <c>pixel</c>, <c>latent</c>, <c>none</c>, <c>inn-only</c>.
/// </summary>
public static class GuidanceStrategyNames
{
    /// <summary>The short names, in the order of <see cref="GuidanceStrategy"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["pixel", "latent", "none", "inn-only"];

    /// <summary>
    /// Reads a strategy name: <c>pixel</c> (also <c>pixel-inn</c>), <c>latent</c> (<c>latent-inn</c>), <c>none</c>,
    /// <c>inn-only</c> (<c>inn</c>); case does not matter.
    /// </summary>
    /// <exception cref="ArgumentException">The name is none of those; the message lists them.</exception>
    public static GuidanceStrategy Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "pixel" or "pixel-inn" => GuidanceStrategy.PixelInn,
            "latent" or "latent-inn" => GuidanceStrategy.LatentInn,
            "none" => GuidanceStrategy.None,
            "inn-only" or "inn" => GuidanceStrategy.InnOnly,
            _ => throw new ArgumentException($"Unknown strategy '{name}': use pixel, latent, none or inn-only.", nameof(name)),
        };
    }

    /// <summary>The short name of a strategy (the one <see cref="Parse"/> reads back).</summary>
    public static string Name(GuidanceStrategy strategy) => strategy switch
    {
        GuidanceStrategy.PixelInn => "pixel",
        GuidanceStrategy.LatentInn => "latent",
        GuidanceStrategy.None => "none",
        GuidanceStrategy.InnOnly => "inn-only",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown strategy."),
    };
}
