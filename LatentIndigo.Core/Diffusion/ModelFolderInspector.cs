using System.Globalization;
using System.Text.Json;

namespace LatentIndigo.Diffusion;

/// <summary>Reads the JSON side of an SD export folder (configs, tokenizer files), collecting problems instead of throwing.</summary>
internal static class ModelFolderInspector
{
    /// <summary>The SD 1.x / 2.x VAE scaling factor, used when no VAE config states one.</summary>
    public const double DefaultScalingFactor = 0.18215;

    public static string Subfolder(DiffusionModelKind kind) => kind switch
    {
        DiffusionModelKind.Unet => "unet",
        DiffusionModelKind.VaeEncoder => "vae_encoder",
        DiffusionModelKind.VaeDecoder => "vae_decoder",
        _ => "text_encoder",
    };

    /// <summary><c>scaling_factor</c> from the VAE configs (decoder first), or null when none states one.</summary>
    public static double? ReadScalingFactor(string folder, List<string> problems)
    {
        double? found = null;
        string? foundIn = null;
        foreach (var sub in new[] { "vae_decoder", "vae_encoder", "vae" })
        {
            var rel = $"{sub}/config.json";
            var root = ReadJsonObject(folder, rel, problems);
            if (root is not { } r || !r.TryGetProperty("scaling_factor", out var s))
            {
                continue;
            }
            if (s.ValueKind != JsonValueKind.Number || !(s.GetDouble() > 0))
            {
                problems.Add($"{rel}: scaling_factor must be a positive number, found {s.GetRawText()}.");
                continue;
            }
            double v = s.GetDouble();
            if (found is { } f && Math.Abs(f - v) > 1e-9)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{rel}: scaling_factor {v} disagrees with {foundIn} ({f})."));
                continue;
            }
            found ??= v;
            foundIn ??= rel;
        }
        return found;
    }

    /// <summary>An integer setting from a model's config.json (e.g. unet in_channels), when present.</summary>
    public static int? ReadConfigInt(string folder, string relativePath, string key)
    {
        var root = ReadJsonObject(folder, relativePath, problems: null);
        return Int(root, key);
    }

    /// <summary>A config file's JSON object, or null when absent or unreadable (problems are reported elsewhere).</summary>
    public static JsonElement? ReadConfigObject(string folder, string relativePath) => ReadJsonObject(folder, relativePath, problems: null);

    /// <summary>An integer member of a JSON object, when present.</summary>
    public static int? Int(JsonElement? root, string key) =>
        root is { } r && r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    /// <summary>A string member of a JSON object, when present.</summary>
    public static string? String(JsonElement? root, string key) =>
        root is { } r && r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>
    /// An optional JSON file (model_index.json, unet/config.json): null when absent; when unreadable, a warning says it
    /// is ignored (the export still loads from the model metadata) rather than silently skipping it.
    /// </summary>
    public static JsonElement? ReadOptionalJson(string folder, string relativePath, ExportNotes notes)
    {
        var problems = new List<string>();
        var root = ReadJsonObject(folder, relativePath, problems);
        foreach (var p in problems)
        {
            notes.Warn($"{p.TrimEnd('.')}: ignored; LatentIndigo goes by the model metadata and SD 1.x/2.x defaults instead. Fix or delete the file.");
        }
        return root;
    }

    /// <summary>
    /// The file LatentIndigo's stand-in builder writes at the top of a stand-in folder, beside the <c>_stand_in</c> key of
    /// model_index.json, so that a damaged model_index.json cannot make random-weight models pass for real ones.
    /// </summary>
    internal const string StandInMarkerFile = "LATENTINDIGO-STAND-IN.txt";

    /// <summary>True when the folder holds the stand-in marker file or model_index.json marks it as stand-in models.</summary>
    public static bool IsStandIn(string folder)
    {
        if (File.Exists(Path.Combine(folder, StandInMarkerFile)))
        {
            return true;
        }
        var root = ReadJsonObject(folder, "model_index.json", problems: null);
        return root is { } r && r.TryGetProperty("_stand_in", out _);
    }

    private static JsonElement? ReadJsonObject(string folder, string relativePath, List<string>? problems)
    {
        var path = Path.Combine(folder, relativePath);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                problems?.Add($"{relativePath}: expected a JSON object.");
                return null;
            }
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            problems?.Add($"{relativePath}: not valid JSON ({e.Message}).");
            return null;
        }
    }
}
