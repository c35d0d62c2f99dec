namespace LatentIndigo.Diffusion;

/// <summary>
/// How the inference timesteps are picked from the training ones (diffusers' <c>timestep_spacing</c>, see
/// "Common Diffusion Noise Schedules and Sample Steps are Flawed", table 2). Use a constant or construct one from the diffusers string.
/// </summary>
public readonly record struct TimestepSpacing
{
    private readonly string? value;

    private static readonly string[] Allowed = ["leading", "trailing", "linspace"];

    /// <summary><c>k·(T/N) + steps_offset</c> for k = N−1…0 (SD 1.x/2.x default).</summary>
    public static readonly TimestepSpacing Leading = new("leading");

    /// <summary><c>round(T − k·T/N) − 1</c> for k = 0…N−1: always starts at T−1.</summary>
    public static readonly TimestepSpacing Trailing = new("trailing");

    /// <summary><c>round(linspace(0, T−1, N))</c>, reversed.</summary>
    public static readonly TimestepSpacing Linspace = new("linspace");

    /// <summary>Creates a spacing from its diffusers name; throws <see cref="LatentIndigoException"/> for unknown names.</summary>
    public TimestepSpacing(string value) => this.value = SchedulerOptionValue.Normalize(value, "timestep_spacing", Allowed);

    /// <summary>The diffusers name, e.g. <c>leading</c>.</summary>
    public string Value => value ?? "leading";

    /// <summary>
    /// Converts a diffusers name; explicit because it throws <see cref="LatentIndigoException"/> for an unknown name
    /// (an implicit conversion must not throw).
    /// </summary>
    public static explicit operator TimestepSpacing(string value) => new(value);

    /// <summary>Equal when the diffusers names are equal (the default value equals the documented default).</summary>
    public bool Equals(TimestepSpacing other) => Value == other.Value;

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Value;
}
