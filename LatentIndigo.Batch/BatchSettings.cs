using System.Globalization;
using System.Reflection;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Batch;

/// <summary>
/// The settings a job's outputs depend on, as sorted <c>name=value</c> pairs: every <see cref="RestoreOptions"/>
/// property but those in <see cref="NotRecorded"/> (the degradation by its spec, the initial estimator by its ToString:
/// its type unless it says more), the restorer's description (models, engine) and the library's version. Stored in the
/// journal; a resume compares them, so a job never mixes outputs of two settings. A property added to
/// <see cref="RestoreOptions"/> is recorded unless it is listed in <see cref="NotRecorded"/>; a test fails until it is
/// classified one way or the other.
/// </summary>
internal static class BatchSettings
{
    /// <summary>
    /// <see cref="RestoreOptions"/> properties that cannot change an output's bytes, with the reason: a resume may change
    /// them. Every other property is recorded (<see cref="Recorded"/>).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> NotRecorded = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(RestoreOptions.MaxOutputPixels)] = "a limit: an image over it fails before any output is written",
        [nameof(RestoreOptions.ComputeQualityMetrics)] = "reporting only: the figures go to the journal, not into the output",
    };

    /// <summary>
    /// <see cref="RestoreOptions"/> properties recorded in the journal (they change an output's bytes). Listed so that a
    /// new property must be placed here or in <see cref="NotRecorded"/> on purpose (a test checks it).
    /// </summary>
    public static readonly IReadOnlySet<string> Recorded = new HashSet<string>(StringComparer.Ordinal)
    {
        "Strategy", "ScaleFactor", "Steps", "Strength", "StartTimestep", "Eta", "GuidanceStepSize", "CoarseWeight",
        "ConsistencyWeight", "GuidanceSkipFraction", "ManifoldRho", "ManifoldEveryKSteps", "RefinementLearningRate",
        "RefinementStepsPerSamplingStep", "LatentTileSize", "LatentTileOverlap", "TileBatchSize", "ClassifierFreeGuidanceScale",
        "Prompt", "NegativePrompt", "Guidance", "Sampler", "KnownDegradation", "Blind", "Seed", "InitialEstimator",
        "RecomputeNoiseAfterGuidance", "ManifoldRegularization", "ColorFix", "MeasurementConsistentFinish",
        "SamplerFactory", // by its type only (docs/reliability.md: what is not promised)
        "EffectiveBlind", "EffectiveMeasurementConsistentFinish", // derived from recorded properties; recorded as read, so a change of the default shows
    };

    /// <summary><see cref="RestoreBatchOptions"/> properties recorded in the journal: the models, as the caller describes them (the "restorer" entry).</summary>
    public static readonly IReadOnlySet<string> BatchOptionsRecorded = new HashSet<string>(StringComparer.Ordinal) { nameof(RestoreBatchOptions.Models) };

    /// <summary><see cref="RestoreBatchOptions"/> properties that cannot change an output's bytes, with the reason.</summary>
    public static readonly IReadOnlyDictionary<string, string> BatchOptionsNotRecorded = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(RestoreBatchOptions.Overwrite)] = "whether outputs standing in the folder at the start may be replaced; a replaced one is this job's own output",
        [nameof(RestoreBatchOptions.RetryFailed)] = "which failed images run again; an image that runs gives the bytes of a fresh run",
        [nameof(RestoreBatchOptions.Logger)] = "log lines only",
    };

    public static SortedDictionary<string, string> Describe(RestoreOptions options, string restorer)
    {
        // restorer: null from a caller that ignored the nullable annotation (Models = null for INN-only) is "no models".
        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["restorer"] = restorer ?? "", ["package"] = RecordedSettings.PackageVersion };
        foreach (var property in typeof(RestoreOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (NotRecorded.ContainsKey(property.Name) || property.GetIndexParameters().Length > 0)
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

    public static string ToText(SortedDictionary<string, string> pairs) => RecordedSettings.ToText(pairs);

    public static SortedDictionary<string, string> FromText(string text) => RecordedSettings.FromText(text);

    /// <summary>"Steps: 50 then, 30 now" for each setting that differs.</summary>
    public static List<string> Differences(SortedDictionary<string, string> then, SortedDictionary<string, string> now) =>
        RecordedSettings.Differences(then, now);
}
