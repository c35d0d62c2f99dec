using System.Globalization;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// The subset of YAML that LDM inference configs (<c>v1-inference.yaml</c>, <c>v2-inference-v.yaml</c>) use: nested
/// <c>key: value</c> maps by indentation, scalars, inline lists and comments. Values are kept as text by dotted path
/// (<c>model.params.unet_config.params.num_heads</c>); list items on their own lines are skipped (none is needed).
/// </summary>
internal sealed class LdmInferenceYaml
{
    private readonly Dictionary<string, string> values;

    private LdmInferenceYaml(Dictionary<string, string> values, string path)
    {
        this.values = values;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="LatentIndigoException">The file is missing or not in this YAML subset.</exception>
    public static LdmInferenceYaml Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new LatentIndigoException($"The original LDM config '{path}' does not exist (pass the checkpoint's inference YAML, e.g. v2-inference-v.yaml).");
        }
        return Parse(File.ReadAllLines(path), path);
    }

    /// <summary>Parses the lines of a config (tests and <see cref="Load"/>).</summary>
    public static LdmInferenceYaml Parse(IEnumerable<string> lines, string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var stack = new List<(int Indent, string Key)>();
        int number = 0;
        foreach (var raw in lines)
        {
            number++;
            string line = StripComment(raw).TrimEnd();
            string trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed.StartsWith('-'))
            {
                continue;
            }
            int indent = line.Length - trimmed.Length;
            int colon = trimmed.IndexOf(':');
            if (colon <= 0)
            {
                throw new LatentIndigoException($"'{path}' line {number} is not 'key: value' YAML: \"{raw.Trim()}\".");
            }
            string key = trimmed[..colon].Trim().Trim('"', '\'');
            string value = trimmed[(colon + 1)..].Trim();
            while (stack.Count > 0 && stack[^1].Indent >= indent)
            {
                stack.RemoveAt(stack.Count - 1);
            }
            string fullPath = string.Join('.', stack.Select(s => s.Key).Append(key));
            if (value.Length == 0)
            {
                stack.Add((indent, key));
            }
            else
            {
                values[fullPath] = Unquote(value);
            }
        }
        return new LdmInferenceYaml(values, path);
    }

    /// <summary>The value at the path ending in <paramref name="suffix"/> (e.g. <c>unet_config.params.num_heads</c>), or null.</summary>
    public string? Find(string suffix)
    {
        foreach (var (key, value) in values)
        {
            if (key == suffix || key.EndsWith("." + suffix, StringComparison.Ordinal))
            {
                return value;
            }
        }
        return null;
    }

    /// <summary>An integer value by path suffix, or null when absent.</summary>
    /// <exception cref="LatentIndigoException">The value is not an integer.</exception>
    public int? FindInt(string suffix)
    {
        var text = Find(suffix);
        if (text is null)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new LatentIndigoException($"'{Path}': {suffix} is '{text}', not an integer.");
    }

    /// <summary>A boolean value by path suffix (YAML true/false in any case), or null when absent.</summary>
    public bool? FindBool(string suffix) => Find(suffix)?.ToLowerInvariant() switch
    {
        null => null,
        "true" or "yes" => true,
        "false" or "no" => false,
        var other => throw new LatentIndigoException($"'{Path}': {suffix} is '{other}', not true or false."),
    };

    private static string StripComment(string line)
    {
        bool single = false, dbl = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\'' && !dbl) single = !single;
            else if (c == '"' && !single) dbl = !dbl;
            else if (c == '#' && !single && !dbl && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                return line[..i];
            }
        }
        return line;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' && value[^1] == '"' || value[0] == '\'' && value[^1] == '\'') ? value[1..^1] : value;
}
