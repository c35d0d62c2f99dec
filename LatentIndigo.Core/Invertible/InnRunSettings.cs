using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using LatentIndigo.Degradations;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// What a training run's output bytes depend on, as sorted <c>name=value</c> pairs: every
/// <see cref="InnTrainingOptions"/> property not in <see cref="NotRecorded"/>, the degradation, the network's
/// architecture, the training and validation images' content (SHA-256 of their pixels), the torch thread count, the
/// library's version, and what the caller adds (<see cref="InnTrainer.RunSettings"/>: initial weights, VAE, ...). A
/// checkpoint records them; a resume with any difference is refused before a step runs.
/// </summary>
internal static class InnRunSettings
{
    /// <summary><see cref="InnTrainingOptions"/> properties that cannot change the trained bytes, with the reason.</summary>
    public static readonly IReadOnlyDictionary<string, string> NotRecorded = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(InnTrainingOptions.ValidateEvery)] = "validation reads the network (eval mode, own generators) and changes no weight; the last step always validates",
        [nameof(InnTrainingOptions.CheckpointEvery)] = "a checkpoint saves the state without changing it; a resume restores it exactly",
        [nameof(InnTrainingOptions.CheckpointPath)] = "where the checkpoint goes, not what is trained",
        [nameof(InnTrainingOptions.Resume)] = "whether to resume, not what is trained",
        [nameof(InnTrainingOptions.ReportEvery)] = "progress reports only",
    };

    /// <summary><see cref="InnTrainingOptions"/> properties recorded (listed so a new property is classified on purpose; a test checks it).</summary>
    public static readonly IReadOnlySet<string> Recorded = new HashSet<string>(StringComparer.Ordinal)
    {
        "Steps", "BatchSize", "CropSize", "LearningRate", "MinLearningRate", "WarmupSteps", "Beta1", "Beta2", "WeightDecay",
        "EncoderLearningRateScale", "Augment", "QuantizeTargets", "StartFromLazyWavelet", "Seed",
    };

    public static SortedDictionary<string, string> Describe(InnTrainingOptions options, IDegradationModel degradation, LiftingInn inn,
        int representationDownscale, bool customCondition, InnImageSet training, InnImageSet? validation, IReadOnlyDictionary<string, string> extra)
    {
        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["degradation"] = degradation.Spec,
            ["network"] = inn.Options.ToString(),
            ["network.encoder"] = inn.Encoder is null ? "none" : string.Create(CultureInfo.InvariantCulture, $"width {inn.Encoder.Width}, sees images {inn.EncoderSeesImages}"),
            ["representation.downscale"] = representationDownscale.ToString(CultureInfo.InvariantCulture),
            ["condition.custom"] = customCondition ? "yes" : "no",
            ["training.images"] = Identity(training),
            ["validation.images"] = validation is null ? "none" : Identity(validation),
            ["torch.threads"] = get_num_threads().ToString(CultureInfo.InvariantCulture),
            ["package"] = RecordedSettings.PackageVersion,
        };
        foreach (var property in typeof(InnTrainingOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!NotRecorded.ContainsKey(property.Name))
            {
                pairs["options." + property.Name] = property.GetValue(options) switch
                {
                    null => "null",
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    var v => v.ToString() ?? "",
                };
            }
        }
        foreach (var (key, value) in extra)
        {
            pairs["run." + key] = value;
        }
        return pairs;
    }

    /// <summary>"12 images, SHA-256 0123…": the count and a hash over every image's shape and float32 pixels, in order.</summary>
    public static string Identity(InnImageSet images)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var image in images.Images)
        {
            using var cpu = image.to(float32).cpu().contiguous();
            foreach (var size in cpu.shape)
            {
                hash.AppendData(BitConverter.GetBytes(size));
            }
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
        }
        return string.Create(CultureInfo.InvariantCulture, $"{images.Count} images, SHA-256 {Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant()}");
    }

    public static string ToText(SortedDictionary<string, string> pairs) => RecordedSettings.ToText(pairs);

    public static SortedDictionary<string, string> FromText(string text) => RecordedSettings.FromText(text);
}
