namespace LatentIndigo.Diffusion;

/// <summary>The names samplers go by on command lines and in configuration files.</summary>
public static class SamplerNames
{
    /// <summary>
    /// Reads a sampler name: <c>ddim</c>, <c>ddpm</c>, <c>euler-a</c> (also <c>euler_a</c>, <c>euler-ancestral</c>,
    /// <c>EulerAncestral</c>); case does not matter.
    /// </summary>
    /// <exception cref="ArgumentException">The name is none of those; the message lists them.</exception>
    public static SamplerKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().Replace("_", "-", StringComparison.Ordinal).ToLowerInvariant() switch
        {
            "ddim" => SamplerKind.Ddim,
            "ddpm" => SamplerKind.Ddpm,
            "euler-a" or "euler-ancestral" or "eulerancestral" => SamplerKind.EulerAncestral,
            _ => throw new ArgumentException($"Unknown sampler '{name}': use ddim, ddpm or euler-a.", nameof(name)),
        };
    }

    /// <summary>The short name of a sampler kind (the one <see cref="Parse"/> reads back).</summary>
    public static string Name(SamplerKind kind) => kind switch
    {
        SamplerKind.Ddim => "ddim",
        SamplerKind.Ddpm => "ddpm",
        SamplerKind.EulerAncestral => "euler-a",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler."),
    };
}
