namespace LatentIndigo.Diffusion;

/// <summary>
/// How the noise variances β_t are spaced over the training timesteps (diffusers' <c>beta_schedule</c>).
/// Use a constant (<see cref="ScaledLinear"/>) or construct one from the diffusers string (<c>"scaled_linear"</c>).
/// </summary>
public readonly record struct BetaSchedule
{
    private readonly string? value;

    private static readonly string[] Allowed = ["linear", "scaled_linear", "squaredcos_cap_v2"];

    /// <summary>β linearly spaced from <c>BetaStart</c> to <c>BetaEnd</c> (DDPM, INDIGO+).</summary>
    public static readonly BetaSchedule Linear = new("linear");

    /// <summary>√β linearly spaced, then squared: Stable Diffusion 1.x / 2.x.</summary>
    public static readonly BetaSchedule ScaledLinear = new("scaled_linear");

    /// <summary>Cosine schedule of Nichol &amp; Dhariwal (ᾱ(t) = cos²((t/T+0.008)/1.008·π/2)), β capped at 0.999.</summary>
    public static readonly BetaSchedule SquaredCosCapV2 = new("squaredcos_cap_v2");

    /// <summary>Creates a schedule from its diffusers name; throws <see cref="LatentIndigoException"/> for unknown names.</summary>
    public BetaSchedule(string value) => this.value = SchedulerOptionValue.Normalize(value, "beta_schedule", Allowed);

    /// <summary>The diffusers name, e.g. <c>scaled_linear</c>.</summary>
    public string Value => value ?? "scaled_linear";

    /// <summary>
    /// Converts a diffusers name; explicit because it throws <see cref="LatentIndigoException"/> for an unknown name
    /// (an implicit conversion must not throw).
    /// </summary>
    public static explicit operator BetaSchedule(string value) => new(value);

    /// <summary>Equal when the diffusers names are equal (the default value equals the documented default).</summary>
    public bool Equals(BetaSchedule other) => Value == other.Value;

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Value;
}
