using System.Text.Json;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Sizes an export implies: the VAE's downscale factor (checked, as LatentIndigo supports SD's 8), the default latent
/// tile (a static UNet size, else <c>unet/config.json</c> <c>sample_size</c>, else 64) and the constraints of static
/// input sizes.
/// </summary>
internal static class ExportGeometry
{
    /// <summary>The latent tile edge used when neither the export nor the caller states one (SD 1.x / 2.x base: 512 px).</summary>
    public const int FallbackLatentTile = 64;

    /// <summary>
    /// Checks the VAE's downscale factor against <see cref="VaeEncoderModel.DownscaleFactor"/>: from the VAE configs'
    /// <c>block_out_channels</c> (2^(n−1)) and from static encoder/decoder sizes. A different factor is a problem.
    /// </summary>
    public static void CheckDownscale(string folder, ModelSession? encoder, ModelSession? decoder, List<string> problems, ExportNotes notes)
    {
        var evidence = new List<(string Source, double Factor)>();
        foreach (var sub in new[] { "vae_encoder", "vae_decoder", "vae" })
        {
            var rel = $"{sub}/config.json";
            var root = ModelFolderInspector.ReadConfigObject(folder, rel);
            if (root is { } r && r.TryGetProperty("block_out_channels", out var blocks) && blocks.ValueKind == JsonValueKind.Array && blocks.GetArrayLength() > 0)
            {
                evidence.Add(($"{rel} block_out_channels has {blocks.GetArrayLength()} entries", Math.Pow(2, blocks.GetArrayLength() - 1)));
            }
        }
        if (encoder is not null && encoder.Inputs.TryGetValue("sample", out var x))
        {
            foreach (var (name, meta) in encoder.Outputs)
            {
                AddRatio(evidence, $"vae_encoder {name}", StaticShapes.Dim(x, 2), StaticShapes.Dim(meta, 2));
            }
        }
        if (decoder is not null && decoder.Inputs.TryGetValue("latent_sample", out var z) && decoder.Outputs.TryGetValue("sample", out var y))
        {
            AddRatio(evidence, "vae_decoder", StaticShapes.Dim(y, 2), StaticShapes.Dim(z, 2));
        }
        var wrong = evidence.Where(e => e.Factor != VaeEncoderModel.DownscaleFactor).ToList();
        if (wrong.Count > 0)
        {
            problems.Add($"The VAE downscales by {wrong[0].Factor} ({string.Join("; ", wrong.Select(w => w.Source))}); LatentIndigo supports the SD 1.x / 2.x VAE, which downscales by {VaeEncoderModel.DownscaleFactor}. Use an SD 1.x or 2.x export.");
        }
        else if (evidence.Count == 0)
        {
            notes.Info($"No VAE config or static size states the VAE's downscale factor; SD's {VaeEncoderModel.DownscaleFactor} is assumed.");
        }
    }

    /// <summary>The default latent tile edge, with a note saying where it came from when it is not the fallback.</summary>
    public static int DefaultLatentTile(ModelSession? unet, JsonElement? unetConfig, ExportNotes notes)
    {
        if (unet is not null && unet.Inputs.TryGetValue("sample", out var sample)
            && StaticShapes.Dim(sample, 2) is { } h && StaticShapes.Dim(sample, 3) is { } w)
        {
            int edge = Math.Min(h, w);
            notes.Info($"Latent tiles default to {edge} (the UNet's static size {h}×{w}, {edge * VaeEncoderModel.DownscaleFactor} px).");
            return edge;
        }
        if (ModelFolderInspector.Int(unetConfig, "sample_size") is { } size)
        {
            if (size is >= 8 and <= 1024 && size % 8 == 0)
            {
                if (size != FallbackLatentTile)
                {
                    notes.Info($"Latent tiles default to {size} (unet/config.json sample_size: the model was trained at {size * VaeEncoderModel.DownscaleFactor} px).");
                }
                return size;
            }
            notes.Warn($"unet/config.json sample_size = {size} is not a multiple of 8 in 8..1024; latent tiles default to {FallbackLatentTile}.");
        }
        return FallbackLatentTile;
    }

    /// <summary>A warning per model that declares static sizes, naming them and what they rule out.</summary>
    public static void NoteStaticShapes(IEnumerable<ModelSession> sessions, ExportNotes notes)
    {
        foreach (var s in sessions)
        {
            if (s.StaticInputs is not { } shapes)
            {
                continue;
            }
            string consequence = s.Kind switch
            {
                DiffusionModelKind.Unet => UnetConstraints(s),
                DiffusionModelKind.TextEncoder => "prompts are encoded one at a time at 77 tokens.",
                _ => "images are encoded and decoded in tiles of exactly these sizes, and an image smaller than a tile (such as a small low-quality input, which the LatentInn strategy encodes) fails.",
            };
            notes.Warn($"{s.Name} declares static input sizes ({shapes}): {consequence}");
        }
    }

    private static string UnetConstraints(ModelSession unet)
    {
        var sample = unet.Inputs.TryGetValue("sample", out var m) ? m : null;
        var parts = new List<string>();
        if (StaticShapes.Dim(sample, 0) is { } b)
        {
            parts.Add($"batch {b} exactly (classifier-free guidance runs its unconditional and conditional halves one after the other)");
        }
        if (StaticShapes.Dim(sample, 2) is { } h && StaticShapes.Dim(sample, 3) is { } w)
        {
            parts.Add($"latent tiles of exactly {h}×{w} ({h * VaeEncoderModel.DownscaleFactor}×{w * VaeEncoderModel.DownscaleFactor} px)");
        }
        return parts.Count == 0 ? "other sizes fail in ONNX Runtime." : "LatentIndigo runs it with " + string.Join(" and ", parts) + ".";
    }

    private static void AddRatio(List<(string, double)> evidence, string source, int? pixels, int? latents)
    {
        if (pixels is { } p && latents is { } l && l > 0)
        {
            evidence.Add(($"{source}: {p} px to {l} latents", (double)p / l));
        }
    }
}
