using LatentIndigo.Diffusion.Architecture;
using LatentIndigo.Weights;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentIndigo.Diffusion.Import;

/// <summary>The Stable Diffusion generation a single file belongs to (decided by its text encoder's layout).</summary>
internal enum StableDiffusionFamily
{
    /// <summary>SD 1.x: CLIP ViT-L/14 text encoder (<c>cond_stage_model.transformer.*</c>).</summary>
    Sd1,

    /// <summary>SD 2.x: OpenCLIP ViT-H/14 text encoder (<c>cond_stage_model.model.*</c>).</summary>
    Sd2,
}

/// <summary>
/// A single-file Stable Diffusion checkpoint in the original CompVis/LDM layout (<c>.safetensors</c> or <c>.ckpt</c>),
/// seen as the three diffusers components: each of <see cref="Unet"/>, <see cref="Vae"/> and <see cref="TextEncoder"/>
/// is a view with diffusers/transformers names (component-relative, e.g. <c>down_blocks.0.resnets.0.conv1.weight</c>,
/// <c>encoder.mid_block.attentions.0.to_q.weight</c>, <c>text_model.encoder.layers.0.self_attn.q_proj.weight</c>) and
/// exactly the parameters of the inferred architecture (<see cref="UnetConfig"/>, <see cref="VaeConfig"/>,
/// <see cref="TextConfig"/>), checked when the file is opened.
/// </summary>
internal sealed class SingleFileCheckpoint : IDisposable
{
    private readonly IWeightSource file;

    private SingleFileCheckpoint(IWeightSource file, StableDiffusionFamily family, SdUnetConfig unetConfig, SdVaeConfig vaeConfig,
        ClipTextConfig textConfig, PredictionType predictionType, RenamedWeightSource unet, RenamedWeightSource vae,
        RenamedWeightSource text, bool hasEma, bool usesEma)
    {
        this.file = file;
        Family = family;
        UnetConfig = unetConfig;
        VaeConfig = vaeConfig;
        TextConfig = textConfig;
        PredictionType = predictionType;
        Unet = unet;
        Vae = vae;
        TextEncoder = text;
        HasEma = hasEma;
        UsesEma = usesEma;
    }

    public StableDiffusionFamily Family { get; }

    public SdUnetConfig UnetConfig { get; }

    public SdVaeConfig VaeConfig { get; }

    public ClipTextConfig TextConfig { get; }

    /// <summary>From the options, the original config's <c>parameterization</c>, or SD 1.x's ε.</summary>
    public PredictionType PredictionType { get; }

    /// <summary>The UNet in diffusers' UNet2DConditionModel names.</summary>
    public RenamedWeightSource Unet { get; }

    /// <summary>The VAE in diffusers' AutoencoderKL names (encoder.*, decoder.*, quant_conv.*, post_quant_conv.*).</summary>
    public RenamedWeightSource Vae { get; }

    /// <summary>The text encoder in transformers' CLIPTextModel names (text_model.*).</summary>
    public RenamedWeightSource TextEncoder { get; }

    /// <summary>Whether the file holds an EMA copy of the UNet beside the trained weights.</summary>
    public bool HasEma { get; }

    /// <summary>Whether <see cref="Unet"/> reads the EMA copy.</summary>
    public bool UsesEma { get; }

    /// <summary>The file.</summary>
    public string Origin => file.Origin;

    /// <summary>Opens <paramref name="path"/>, infers the architecture and checks every tensor against it.</summary>
    /// <exception cref="WeightFileException">The file is not a readable weight file.</exception>
    /// <exception cref="ModelImportException">
    /// The layout is SDXL, SD 3, inpainting or unknown; tensors are missing or unexpected; or an SD 2.x file's prediction
    /// type is not known.
    /// </exception>
    public static SingleFileCheckpoint Open(string path, SingleFileOptions? options = null, ILogger? logger = null)
    {
        options ??= new SingleFileOptions();
        logger ??= NullLogger.Instance;
        var yaml = options.OriginalConfigPath is { } yamlPath ? LdmInferenceYaml.Load(yamlPath) : null;
        var file = WeightFile.Open(path);
        try
        {
            return Build(file, options, yaml, logger);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => file.Dispose();

    private static SingleFileCheckpoint Build(IWeightSource file, SingleFileOptions options, LdmInferenceYaml? yaml, ILogger logger)
    {
        var inference = new LdmArchitectureInference(file, options, yaml);
        var arch = inference.Infer();
        bool hasEma = file.Names.Any(n => n.StartsWith(LdmNames.Ema, StringComparison.Ordinal) && n is not ("model_ema.decay" or "model_ema.num_updates"));
        bool useEma = options.UseEma && hasEma;
        if (hasEma)
        {
            logger.LogInformation("'{File}' holds both the trained UNet weights and their EMA copy; using the {Which} ones{Hint}.",
                file.Origin, useEma ? "EMA" : "trained", useEma ? "" : " (pass --ema for the EMA weights)");
        }
        else if (options.UseEma)
        {
            logger.LogWarning("'{File}' has no separate EMA copy (model_ema.*): its UNet weights are used as they are (files named *-emaonly already hold the EMA weights).", file.Origin);
        }
        logger.LogInformation("'{File}': {Description}", file.Origin, arch.Describe());

        var problems = new MappingProblems(arch.Describe());
        var unet = MapUnet(file, arch, useEma, problems);
        var vae = MapVae(file, arch, problems);
        var text = arch.Family == StableDiffusionFamily.Sd1 ? MapClipText(file, arch, problems) : MapOpenClipText(file, arch, problems);
        problems.ThrowIfAny(file.Origin);
        return new SingleFileCheckpoint(file, arch.Family, arch.Unet, arch.Vae, arch.Text, arch.PredictionType, unet, vae, text, hasEma, useEma);
    }

    private static RenamedWeightSource MapUnet(IWeightSource file, LdmArchitecture arch, bool useEma, MappingProblems problems)
    {
        var expected = Expected(SdParameterCount.UnetParameters(arch.Unet));
        var mapped = new Dictionary<string, TensorSourceMapping>(StringComparer.Ordinal);
        foreach (var key in file.Names.Where(n => n.StartsWith(LdmNames.Unet, StringComparison.Ordinal)))
        {
            string relative = key[LdmNames.Unet.Length..];
            string source = key;
            if (useEma)
            {
                source = LdmNames.EmaKey(relative);
                if (!file.Contains(source))
                {
                    problems.Missing.Add($"{source} (the EMA copy of {key})");
                    continue;
                }
            }
            Add(file, LdmNames.UnetName(relative, arch.Unet.LayersPerBlock), source, key, expected, mapped, problems);
        }
        return View(file, "the UNet", expected, mapped, problems, "UNet");
    }

    private static RenamedWeightSource MapVae(IWeightSource file, LdmArchitecture arch, MappingProblems problems)
    {
        var expected = Expected(SdParameterCount.VaeEncoderParameters(arch.Vae).Concat(SdParameterCount.VaeDecoderParameters(arch.Vae)));
        var mapped = new Dictionary<string, TensorSourceMapping>(StringComparer.Ordinal);
        foreach (var key in file.Names.Where(n => n.StartsWith(LdmNames.Vae, StringComparison.Ordinal)))
        {
            Add(file, LdmNames.VaeName(key[LdmNames.Vae.Length..], arch.Vae.BlockOutChannels.Length), key, key, expected, mapped, problems);
        }
        return View(file, "the VAE", expected, mapped, problems, "VAE");
    }

    private static RenamedWeightSource MapClipText(IWeightSource file, LdmArchitecture arch, MappingProblems problems)
    {
        var expected = Expected(SdParameterCount.TextParameters(arch.Text));
        var mapped = new Dictionary<string, TensorSourceMapping>(StringComparer.Ordinal);
        foreach (var key in file.Names.Where(n => n.StartsWith(LdmNames.ClipText, StringComparison.Ordinal)))
        {
            string name = LdmNames.ClipTextName(key[LdmNames.ClipText.Length..]);
            if (name == "text_model.embeddings.position_ids")
            {
                continue; // a buffer of 0..76, not a weight
            }
            Add(file, name, key, key, expected, mapped, problems);
        }
        return View(file, "the text encoder", expected, mapped, problems, "text encoder");
    }

    private static RenamedWeightSource MapOpenClipText(IWeightSource file, LdmArchitecture arch, MappingProblems problems)
    {
        var expected = Expected(SdParameterCount.TextParameters(arch.Text));
        var mapped = new Dictionary<string, TensorSourceMapping>(StringComparer.Ordinal);
        long hidden = arch.Text.Hidden;
        foreach (var key in file.Names.Where(n => n.StartsWith(LdmNames.OpenClipText, StringComparison.Ordinal)))
        {
            var targets = LdmNames.OpenClipNames(key[LdmNames.OpenClipText.Length..], arch.Text.Layers, out bool ignored);
            if (targets.Count == 0 && !ignored)
            {
                problems.Unexpected.Add(key);
            }
            foreach (var (name, part) in targets)
            {
                if (part < 0)
                {
                    Add(file, name, key, key, expected, mapped, problems);
                    continue;
                }
                // One third of the fused [3C, ...] in_proj: rows [part·C, (part+1)·C).
                var info = file.Info(key);
                if (!expected.TryGetValue(name, out var shape))
                {
                    problems.Unexpected.Add(key);
                }
                else if (info.Shape.Length == 0 || info.Shape[0] != 3 * hidden || !info.Shape.Skip(1).SequenceEqual(shape.Skip(1)) || shape[0] != hidden)
                {
                    problems.MisShaped.Add($"{key} is {info.ShapeText}, expected [{3 * hidden}{string.Concat(shape.Skip(1).Select(d => ", " + d))}] (q, k and v of width {hidden})");
                }
                else
                {
                    mapped[name] = new TensorSourceMapping(key, shape, part * hidden);
                }
            }
        }
        return View(file, "the text encoder", expected, mapped, problems, "text encoder");
    }

    private static Dictionary<string, long[]> Expected(IEnumerable<(string Name, long[] Shape)> parameters) =>
        parameters.ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);

    private static void Add(IWeightSource file, string? name, string source, string key, Dictionary<string, long[]> expected,
        Dictionary<string, TensorSourceMapping> mapped, MappingProblems problems)
    {
        if (name is null || !expected.TryGetValue(name, out var shape))
        {
            problems.Unexpected.Add(key);
            return;
        }
        var info = file.Info(source);
        if (!SameUpToTrailingOnes(info.Shape, shape))
        {
            problems.MisShaped.Add($"{source} is {info.ShapeText}, expected [{string.Join(", ", shape)}] for {name}");
            return;
        }
        if (!info.DType.IsFloatingPoint())
        {
            problems.MisShaped.Add($"{source} holds {info.DType} values, not weights");
            return;
        }
        if (!mapped.TryAdd(name, new TensorSourceMapping(source, shape)))
        {
            problems.Unexpected.Add($"{key} (a second source of {name})");
        }
    }

    /// <summary>Equal shapes, or shapes that differ only by trailing 1s (a 1×1 convolution kernel read as a linear weight).</summary>
    private static bool SameUpToTrailingOnes(long[] a, long[] b)
    {
        static long[] Trim(long[] s)
        {
            int n = s.Length;
            while (n > 1 && s[n - 1] == 1)
            {
                n--;
            }
            return s[..n];
        }
        return Trim(a).SequenceEqual(Trim(b));
    }

    private static RenamedWeightSource View(IWeightSource file, string description, Dictionary<string, long[]> expected,
        Dictionary<string, TensorSourceMapping> mapped, MappingProblems problems, string component)
    {
        foreach (var name in expected.Keys)
        {
            if (!mapped.ContainsKey(name))
            {
                problems.Missing.Add($"{component} {name}");
            }
        }
        // The view lists the architecture's parameters in the graph's order.
        return new RenamedWeightSource(file, expected.Keys.Where(mapped.ContainsKey).Select(n => KeyValuePair.Create(n, mapped[n])), description);
    }

    private sealed class MappingProblems(string architecture)
    {
        public List<string> Missing { get; } = [];

        public List<string> Unexpected { get; } = [];

        public List<string> MisShaped { get; } = [];

        public void ThrowIfAny(string origin)
        {
            if (Missing.Count + Unexpected.Count + MisShaped.Count == 0)
            {
                return;
            }
            var parts = new List<string>();
            static string List(List<string> items) => string.Join(", ", items.Take(12)) + (items.Count > 12 ? $", ... ({items.Count - 12} more)" : "");
            if (Missing.Count > 0)
            {
                parts.Add($"missing tensors ({Missing.Count}): {List(Missing)}");
            }
            if (Unexpected.Count > 0)
            {
                parts.Add($"unexpected tensors ({Unexpected.Count}): {List(Unexpected)}");
            }
            if (MisShaped.Count > 0)
            {
                parts.Add($"mis-shaped tensors ({MisShaped.Count}): {List(MisShaped)}");
            }
            throw new ModelImportException(origin,
                $"'{origin}' does not match the architecture inferred from it ({architecture}). {string.Join(". ", parts)}. "
                + "If the file is a variant of SD 1.x/2.x with other heads or layers, pass its original config (--original-config); other architectures are not supported.");
        }
    }
}
