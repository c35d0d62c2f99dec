using System.Text.Json;

namespace LatentIndigo.Diffusion.Import;

/// <summary>Typed reads of a diffusers/transformers <c>config.json</c> object, with messages that name the file and the field.</summary>
internal sealed class ConfigReader(JsonElement root, string path)
{
    public bool Has(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out _);

    public bool IsNull(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Null;

    public LatentIndigoException Refuse(string reason) => new ModelImportException(path, reason, []);

    private LatentIndigoException Bad(string name, string expected) =>
        new LatentIndigoException($"'{path}': {name} must be {expected}.");

    private bool TryGet(string name, out JsonElement value)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new LatentIndigoException($"'{path}' is not a JSON object of settings.");
        }
        return root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    public string? String(string name, string? fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback;
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad(name, "a string");
    }

    public int Int(string name, int fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback;
        }
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Bad(name, "a whole number");
    }

    public double Double(string name, double fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback;
        }
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Bad(name, "a number");
    }

    public bool Bool(string name, bool fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(name, "true or false"),
        };
    }

    /// <summary>An array of whole numbers; a null fallback makes the field required.</summary>
    public int[] Ints(string name, int[]? fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback ?? throw new LatentIndigoException($"'{path}' has no {name}.");
        }
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() == 0)
        {
            throw Bad(name, "a non-empty array of whole numbers");
        }
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i) && i > 0 ? i : throw Bad(name, "an array of positive whole numbers")).ToArray();
    }

    /// <summary>One number for every level, or a list of <paramref name="levels"/> (booleans read as 0/1 when asked).</summary>
    public int[] IntsOrInt(string name, int levels, int fallback = 0, bool boolean = false)
    {
        if (!TryGet(name, out var v))
        {
            return Enumerable.Repeat(fallback, levels).ToArray();
        }
        int One(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Number when e.TryGetInt32(out var i) => i,
            JsonValueKind.True when boolean => 1,
            JsonValueKind.False when boolean => 0,
            _ => throw Bad(name, $"a whole number or a list of {levels}"),
        };
        if (v.ValueKind == JsonValueKind.Array)
        {
            var values = v.EnumerateArray().Select(One).ToArray();
            return values.Length == levels ? values : throw Bad(name, $"a list of {levels} values (one per level), not {values.Length}");
        }
        return Enumerable.Repeat(One(v), levels).ToArray();
    }

    public string[] Strings(string name, string[] fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback;
        }
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Bad(name, "an array of strings");
        }
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad(name, "an array of strings")).ToArray();
    }

    /// <summary>Refuses a value other than the one the graphs implement (an absent field has diffusers' default, which is it).</summary>
    public void Expect(string name, string value)
    {
        if (String(name, value) is { } actual && actual != value)
        {
            throw Refuse($"{name} = {actual}; LatentIndigo builds Stable Diffusion 1.x/2.x's {value}.");
        }
    }

    public void ExpectBool(string name, bool value)
    {
        if (Bool(name, value) != value)
        {
            throw Refuse($"{name} = {!value}; Stable Diffusion 1.x/2.x have {(value ? "true" : "false")}.");
        }
    }

    public void ExpectNumber(string name, double value)
    {
        double actual = Double(name, value);
        if (Math.Abs(actual - value) > 1e-9 * Math.Max(1, Math.Abs(value)))
        {
            throw Refuse($"{name} = {actual}; Stable Diffusion 1.x/2.x have {value}.");
        }
    }
}
