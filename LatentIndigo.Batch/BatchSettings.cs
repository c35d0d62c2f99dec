using System.Globalization;
using System.Reflection;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Batch;

/// <summary>
/// The settings a job's outputs depend on, as sorted <c>name=value</c> pairs: every <see cref="RestoreOptions"/>
/// property (the degradation by its spec, the initial estimator by its ToString: its type unless it says more) and the restorer's description. Stored in
/// the journal; a resume compares them, so a job never mixes outputs of two settings.
/// </summary>
internal static class BatchSettings
{
    // Limits and reporting switches do not change an output's bytes: a resume may change them.
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        nameof(RestoreOptions.MaxOutputPixels), nameof(RestoreOptions.ComputeQualityMetrics),
    };

    public static SortedDictionary<string, string> Describe(RestoreOptions options, string restorer)
    {
        // restorer: null from a caller that ignored the nullable annotation (Models = null for INN-only) is "no models".
        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["restorer"] = restorer ?? "" };
        foreach (var property in typeof(RestoreOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (Ignored.Contains(property.Name) || property.GetIndexParameters().Length > 0)
            {
                continue;
            }
            object? value = property.GetValue(options);
            pairs[property.Name] = value switch
            {
                null => "null",
                Degradations.IDegradationModel d => d.Spec,
                IInitialEstimator e => e.ToString() ?? e.GetType().Name, // the type name unless it describes itself (OnnxUpscaleEstimator: name, hash, tiling)
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
        }
        return pairs;
    }

    public static string ToText(SortedDictionary<string, string> pairs) =>
        string.Join("\n", pairs.Select(p => $"{p.Key}={p.Value.Replace("\n", " ", StringComparison.Ordinal)}"));

    public static SortedDictionary<string, string> FromText(string text)
    {
        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            pairs[eq < 0 ? line : line[..eq]] = eq < 0 ? "" : line[(eq + 1)..];
        }
        return pairs;
    }

    /// <summary>"Steps: 50 then, 30 now" for each setting that differs.</summary>
    public static List<string> Differences(SortedDictionary<string, string> then, SortedDictionary<string, string> now)
    {
        var differences = new List<string>();
        foreach (var key in then.Keys.Union(now.Keys).Order(StringComparer.Ordinal))
        {
            string a = then.GetValueOrDefault(key, "(absent)"), b = now.GetValueOrDefault(key, "(absent)");
            if (a != b)
            {
                differences.Add($"{key}: {a} then, {b} now");
            }
        }
        return differences;
    }
}
