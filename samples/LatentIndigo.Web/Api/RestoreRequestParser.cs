using System.Globalization;
using LatentIndigo.Degradations;
using LatentIndigo.Diffusion;
using LatentIndigo.Pipeline;
using LatentIndigo.Web.Hosting;

namespace LatentIndigo.Web.Api;

/// <summary>
/// Reads the settings of <c>POST /api/restore</c> with the CLI's names and vocabulary (<c>strategy</c> pixel / latent /
/// none / inn-only, <c>degradation</c> a DegradationSpec such as <c>bicubic:x4</c> or <c>unknown</c>, <c>scale</c>,
/// <c>steps</c>, <c>seed</c>, <c>strength</c>, <c>sampler</c>, <c>estimator</c>) into <see cref="RestoreOptions"/>.
/// Every problem is reported under the field's name; an unknown field is a problem too (a typo must not silently run
/// with defaults).
/// </summary>
internal static class RestoreRequestParser
{
    /// <summary>The form field of the image.</summary>
    public const string ImageField = "image";

    /// <summary>The settings fields, in the order the docs list them.</summary>
    public static IReadOnlyList<string> SettingFields { get; } = ["strategy", "degradation", "scale", "steps", "seed", "strength", "sampler", "estimator"];

    /// <summary>The parsed options, or the problems by field name.</summary>
    public static (RestoreOptions? Options, Dictionary<string, string[]> Problems) Parse(
        IEnumerable<KeyValuePair<string, string>> fields, PipelineHost host, EstimatorCatalog estimators, DemoSettings settings)
    {
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Problem(string field, string message) => problems[field] = [.. problems.GetValueOrDefault(field, []), message];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            if (!SettingFields.Contains(name))
            {
                Problem(name, $"Unknown setting '{name}'. Known settings: {string.Join(", ", SettingFields)} (and the file field '{ImageField}').");
            }
            else if (!values.TryAdd(name, value.Trim()))
            {
                Problem(name, $"The setting '{name}' is given twice; give it once.");
            }
        }
        string? Get(string name) => values.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

        var options = RestoreOptions.Default with
        {
            Strategy = host.DefaultStrategy,
            MaxOutputPixels = (long)(settings.MaxOutputMegapixels * 1_000_000),
        };
        if (Get("strategy") is { } strategyName)
        {
            try
            {
                var strategy = GuidanceStrategyNames.Parse(strategyName);
                if (!host.Strategies.Contains(strategy))
                {
                    Problem("strategy", host.Pipeline.Models is null
                        ? $"The strategy '{strategyName}' needs a Stable Diffusion export; this server runs INN-only (start it with --model <folder>, or --stand-in for a plumbing demo). Use inn-only."
                        : $"The strategy '{strategyName}' needs a latent INN trained for this export's VAE; this server has none (start it with --latent-inn <file>). Use {string.Join(", ", host.Strategies.Select(GuidanceStrategyNames.Name))}.");
                }
                options = options with { Strategy = strategy };
            }
            catch (ArgumentException ex)
            {
                Problem("strategy", FirstSentence(ex));
            }
        }
        options = options with
        {
            ScaleFactor = Integer("scale", options.ScaleFactor),
            Steps = Integer("steps", options.Steps),
            Seed = Get("seed") is { } seed ? ParseLong("seed", seed) : options.Seed,
            Strength = Get("strength") is { } strength ? ParseDouble("strength", strength) : options.Strength,
        };
        if (options.Steps > settings.MaxSteps)
        {
            Problem("steps", $"steps must be at most {settings.MaxSteps} on this server; got {options.Steps}.");
        }
        if (Get("sampler") is { } sampler)
        {
            try
            {
                options = options with { Sampler = SamplerNames.Parse(sampler) };
            }
            catch (ArgumentException ex)
            {
                Problem("sampler", FirstSentence(ex));
            }
        }
        if (Get("degradation") is { } spec && !spec.Equals("unknown", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                options = options with { KnownDegradation = DegradationSpec.Parse(spec) };
            }
            catch (DegradationSpecException ex)
            {
                Problem("degradation", ex.Message);
            }
        }
        string estimatorName = Get("estimator") ?? EstimatorCatalog.Default;
        if (estimators.TryGet(estimatorName, out var estimator))
        {
            options = options with { InitialEstimator = estimator };
        }
        else
        {
            Problem("estimator", $"Unknown estimator '{estimatorName}'. This server has: {string.Join(", ", estimators.Names)}.");
        }
        if (problems.Count == 0)
        {
            try
            {
                options.Validate();
            }
            catch (InvalidRestoreOptionsException ex)
            {
                foreach (var problem in ex.Problems)
                {
                    Problem(FieldOf(problem), ForWeb(problem));
                }
            }
        }
        return (problems.Count == 0 ? options : null, problems);

        int Integer(string name, int fallback)
        {
            if (Get(name) is not { } text)
            {
                return fallback;
            }
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            {
                return value;
            }
            Problem(name, $"{name} must be a whole number; got '{text}'.");
            return fallback;
        }

        long ParseLong(string name, string text)
        {
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
            {
                return value;
            }
            Problem(name, $"{name} must be a whole number; got '{text}'.");
            return 0;
        }

        double ParseDouble(string name, string text)
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value))
            {
                return value;
            }
            Problem(name, $"{name} must be a number such as 0.57; got '{text}'.");
            return RestoreOptions.Default.Strength;
        }
    }

    // RestoreOptions.Validate names its properties; the web API names its fields as the CLI does.
    private static readonly (string Property, string Field)[] PropertyFields =
    [
        ("ScaleFactor", "scale"), ("Steps", "steps"), ("Strength", "strength"), ("KnownDegradation", "degradation"), ("Sampler", "sampler"),
    ];

    private static string FieldOf(string problem) =>
        PropertyFields.FirstOrDefault(p => problem.StartsWith(p.Property, StringComparison.Ordinal)).Field ?? "settings";

    private static string ForWeb(string problem)
    {
        foreach (var (property, field) in PropertyFields)
        {
            problem = problem.Replace(property, field, StringComparison.Ordinal);
        }
        return problem;
    }

    private static string FirstSentence(ArgumentException ex) => ex.Message.Split(" (Parameter", 2)[0];
}
