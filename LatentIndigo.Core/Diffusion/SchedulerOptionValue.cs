namespace LatentIndigo.Diffusion;

/// <summary>
/// Shared parsing for the string-valued scheduler options (<see cref="BetaSchedule"/>, <see cref="PredictionType"/>,
/// <see cref="TimestepSpacing"/>): diffusers writes them as snake_case strings in <c>scheduler_config.json</c>, and
/// callers may assign either the named constants or those strings.
/// </summary>
internal static class SchedulerOptionValue
{
    /// <summary>Normalises a value for comparison (case-insensitive, trimmed) and rejects unknown ones.</summary>
    public static string Normalize(string? value, string optionName, IReadOnlyList<string> allowed)
    {
        var v = (value ?? string.Empty).Trim().ToLowerInvariant();
        foreach (var a in allowed)
        {
            if (a == v)
            {
                return a;
            }
        }
        throw new LatentIndigoException(
            $"Unknown {optionName} '{value}'. Use one of: {string.Join(", ", allowed)} (the values diffusers writes in scheduler_config.json).");
    }
}
