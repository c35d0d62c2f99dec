namespace LatentIndigo.Diffusion;

/// <summary>
/// What the UNet predicts (diffusers' <c>prediction_type</c>): the noise ε, the velocity v = √ᾱ·ε − √(1−ᾱ)·x0
/// (SD 2.x 768-v models), or the clean sample itself. Use a constant or construct one from the diffusers string.
/// </summary>
public readonly record struct PredictionType
{
    private readonly string? value;

    private static readonly string[] Allowed = ["epsilon", "v_prediction", "sample"];

    /// <summary>ε-prediction (SD 1.x, SD 2.x base).</summary>
    public static readonly PredictionType Epsilon = new("epsilon");

    /// <summary>v-prediction (SD 2.x 768-v).</summary>
    public static readonly PredictionType VPrediction = new("v_prediction");

    /// <summary>The model predicts x0 directly.</summary>
    public static readonly PredictionType Sample = new("sample");

    /// <summary>Creates a prediction type from its diffusers name; throws <see cref="LatentIndigoException"/> for unknown names.</summary>
    public PredictionType(string value) => this.value = SchedulerOptionValue.Normalize(value, "prediction_type", Allowed);

    /// <summary>The diffusers name, e.g. <c>epsilon</c>.</summary>
    public string Value => value ?? "epsilon";

    /// <summary>
    /// Converts a diffusers name; explicit because it throws <see cref="LatentIndigoException"/> for an unknown name
    /// (an implicit conversion must not throw).
    /// </summary>
    public static explicit operator PredictionType(string value) => new(value);

    /// <summary>Equal when the diffusers names are equal (the default value equals the documented default).</summary>
    public bool Equals(PredictionType other) => Value == other.Value;

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Value;
}
