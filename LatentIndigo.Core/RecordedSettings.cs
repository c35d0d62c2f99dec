using System.Reflection;

namespace LatentIndigo;

/// <summary>
/// Settings recorded with a job (the batch journal, a training checkpoint) as sorted <c>name=value</c> lines, and the
/// comparison a resume makes: one format and one wording of differences for both.
/// </summary>
internal static class RecordedSettings
{
    /// <summary>The library's version (informational, with the commit when built from source), recorded with the settings.</summary>
    public static string PackageVersion { get; } =
        typeof(RecordedSettings).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(RecordedSettings).Assembly.GetName().Version?.ToString() ?? "unknown";

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
