using System.Globalization;

namespace LatentIndigo.Degradations;

/// <summary>What kind of value a spec parameter takes.</summary>
internal enum SpecValueKind
{
    Real,
    Integer,
    OddInteger,
    Boolean,
    RealList,
}

/// <summary>One <c>key=value</c> parameter of a spec operator, with its valid range.</summary>
internal sealed record SpecParameter(string Key, SpecValueKind Kind, double Min, double Max, string Meaning)
{
    public string Usage => Kind switch
    {
        SpecValueKind.Boolean => $"{Key}=true|false",
        SpecValueKind.RealList => $"{Key}=v;v;...",
        SpecValueKind.OddInteger => $"{Key}=<odd {Show(Min)}..{Show(Max)}>",
        SpecValueKind.Integer => $"{Key}=<{Show(Min)}..{Show(Max)}>",
        _ => $"{Key}=<{Show(Min)}..{Show(Max)}>",
    };

    private static string Show(double v) =>
        Math.Abs(Math.Abs(v) - Math.PI) < 1e-12 ? (v < 0 ? "-π" : "π") : v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A named operator of the spec language: its parameters and how to build it.</summary>
internal sealed record SpecOperator(
    string Name,
    string Summary,
    string Form,
    IReadOnlyList<SpecParameter> Parameters,
    Func<SpecArguments, IDegradationModel> Create)
{
    public string Usage => $"{Name}:{Form}";
}

/// <summary>The parsed <c>key=value</c> pairs of one stage, read with range checks.</summary>
internal sealed class SpecArguments
{
    private readonly SpecOperator op;
    private readonly Dictionary<string, string> values;

    public SpecArguments(SpecOperator op, Dictionary<string, string> values)
    {
        this.op = op;
        this.values = values;
    }

    public bool Has(string key) => values.ContainsKey(key);

    public double? Real(string key)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return null;
        }
        var p = Parameter(key);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            throw Error($"{key}={text} is not a number; expected {p.Usage}.");
        }
        // π is printed rounded in messages but accepted exactly.
        if (v < p.Min - 1e-12 || v > p.Max + 1e-12)
        {
            throw Error($"{key}={text} is out of range; expected {p.Usage}.");
        }
        return v;
    }

    public double RequiredReal(string key) => Real(key) ?? throw Error($"{key} is required; expected {Parameter(key).Usage}.");

    public int? Integer(string key)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return null;
        }
        var p = Parameter(key);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            throw Error($"{key}={text} is not an integer; expected {p.Usage}.");
        }
        if (v < p.Min || v > p.Max || (p.Kind == SpecValueKind.OddInteger && v % 2 == 0))
        {
            throw Error($"{key}={text} is out of range; expected {p.Usage}.");
        }
        return v;
    }

    public int RequiredInteger(string key) => Integer(key) ?? throw Error($"{key} is required; expected {Parameter(key).Usage}.");

    public bool? Boolean(string key)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return null;
        }
        return text.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw Error($"{key}={text} is not true or false."),
        };
    }

    public double[] RealList(string key)
    {
        if (!values.TryGetValue(key, out var text))
        {
            throw Error($"{key} is required; expected {Parameter(key).Usage}.");
        }
        var parts = text.Split(';', StringSplitOptions.TrimEntries);
        var result = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !double.IsFinite(result[i]))
            {
                throw Error($"{key}: '{parts[i]}' is not a finite number.");
            }
        }
        return result;
    }

    public DegradationSpecException Error(string message) =>
        new($"'{op.Name}': {message} Usage: {op.Usage}");

    private SpecParameter Parameter(string key) => op.Parameters.First(p => p.Key == key);
}
