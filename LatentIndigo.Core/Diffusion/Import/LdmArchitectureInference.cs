using System.Globalization;
using LatentIndigo.Diffusion.Architecture;
using LatentIndigo.Weights;

namespace LatentIndigo.Diffusion.Import;

/// <summary>What was inferred from a single file, with where each fact that shapes cannot tell came from.</summary>
internal sealed record LdmArchitecture(StableDiffusionFamily Family, SdUnetConfig Unet, SdVaeConfig Vae, ClipTextConfig Text,
    PredictionType PredictionType, int TextBlocksInFile, string HeadsSource, string PredictionSource)
{
    /// <summary>One line for logs and error messages.</summary>
    public string Describe()
    {
        string family = Family == StableDiffusionFamily.Sd1 ? "SD 1.x" : "SD 2.x";
        string heads = Unet.HeadsPerLevel is { } h ? $"heads per level [{string.Join(", ", h)}]" : Unet.HeadDim is { } d ? $"{d}-channel heads" : $"{Unet.Heads} heads";
        return $"{family} layout: UNet channels [{string.Join(", ", Unet.BlockOutChannels)}], {Unet.LayersPerBlock} layers per block, "
            + $"context width {Unet.CrossAttentionDim}, {(Unet.LinearProjection ? "linear" : "convolutional")} proj_in, {heads} ({HeadsSource}), {Unet.NormGroups} groups; "
            + $"VAE channels [{string.Join(", ", Vae.BlockOutChannels)}], {Vae.LayersPerBlock} layers per block, {Vae.LatentChannels} latent channels; "
            + $"text encoder width {Text.Hidden}, {Text.Layers} layers{(TextBlocksInFile != Text.Layers ? $" ({TextBlocksInFile} in the file, the last unused)" : "")}, {Text.Heads} heads, "
            + $"{(Text.QuickGelu ? "quick GELU" : "GELU")}; prediction type {PredictionType.Value} ({PredictionSource})";
    }
}

/// <summary>
/// Reads an LDM checkpoint's architecture from its tensor shapes (levels, channels, layers per block, context width,
/// projection kind, VAE channels, text width and depth) and takes what shapes cannot tell (attention heads, the
/// prediction type) from the user's options, the original LDM config, or the published SD 1.x / 2.x values. Refuses
/// SDXL, SD 3, inpainting and unknown layouts by name.
/// </summary>
internal sealed class LdmArchitectureInference(IWeightSource file, SingleFileOptions options, LdmInferenceYaml? yaml)
{
    private const int PublishedSd1Heads = 8;
    private const int PublishedSd2HeadChannels = 64;
    private const int PublishedClipHeadChannels = 64;
    private const int PublishedGroups = 32;

    private string Origin => file.Origin;

    public LdmArchitecture Infer()
    {
        RefuseOtherArchitectures();
        var (family, text, blocksInFile) = InferText();
        var unet = InferUnet(family, out string headsSource);
        var vae = InferVae();
        var (prediction, predictionSource) = InferPrediction(family);
        if (family == StableDiffusionFamily.Sd2 && prediction == PredictionType.VPrediction)
        {
            unet = unet with { UpcastAttention = true }; // SD 2.x 768-v publishes upcast_attention
        }
        if (text.Hidden != unet.CrossAttentionDim)
        {
            throw new ModelImportException(Origin, $"'{Origin}': the text encoder is {text.Hidden} wide but the UNet's cross-attention expects {unet.CrossAttentionDim}: the file mixes parts of different models.");
        }
        return new LdmArchitecture(family, unet, vae, text, prediction, blocksInFile, headsSource, predictionSource);
    }

    private void RefuseOtherArchitectures()
    {
        var names = file.Names;
        bool Any(string prefix) => names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal));
        if (Any("conditioner.embedders.") || Any(LdmNames.Unet + "label_emb."))
        {
            throw new ModelImportException(Origin, $"'{Origin}' is an SDXL checkpoint (conditioner.embedders / label_emb): SDXL is not supported; use an SD 1.x or SD 2.x model.");
        }
        if (Any(LdmNames.Unet + "joint_blocks.") || Any("model.diffusion_model.x_embedder.") || names.Any(n => n.Contains("mmdit", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ModelImportException(Origin, $"'{Origin}' is a Stable Diffusion 3 (MMDiT, joint_blocks) checkpoint: SD 3 is not supported; use an SD 1.x or SD 2.x model.");
        }
        if (!Any(LdmNames.Unet))
        {
            string hint = names.Any(n => n.StartsWith("down_blocks.", StringComparison.Ordinal) || n.StartsWith("encoder.down_blocks.", StringComparison.Ordinal) || n.StartsWith("text_model.", StringComparison.Ordinal))
                ? " It looks like one component of a diffusers folder: pass the whole pipeline folder instead."
                : "";
            throw new ModelImportException(Origin,
                $"'{Origin}' is not a Stable Diffusion checkpoint in the LDM layout: it has no model.diffusion_model.* tensors (its first tensors: {string.Join(", ", names.Take(5))}).{hint}");
        }
    }

    private (StableDiffusionFamily, ClipTextConfig, int) InferText()
    {
        bool clip = file.Names.Any(n => n.StartsWith(LdmNames.ClipText, StringComparison.Ordinal));
        bool openClip = file.Names.Any(n => n.StartsWith(LdmNames.OpenClipText, StringComparison.Ordinal));
        if (clip == openClip)
        {
            throw new ModelImportException(Origin, clip
                ? $"'{Origin}' holds two text encoders (cond_stage_model.transformer.* and cond_stage_model.model.*): an unknown layout."
                : $"'{Origin}' holds no text encoder (neither cond_stage_model.transformer.* for SD 1.x nor cond_stage_model.model.* for SD 2.x): an unknown layout or a UNet-only file.");
        }
        if (clip)
        {
            string prefix = LdmNames.ClipText + (file.Contains(LdmNames.ClipText + "text_model.embeddings.token_embedding.weight") ? "text_model." : "");
            var tokens = Required(prefix + "embeddings.token_embedding.weight");
            var positions = Required(prefix + "embeddings.position_embedding.weight");
            int layers = CountIndices(prefix + "encoder.layers.");
            int hidden = (int)tokens.Shape[1];
            int intermediate = (int)Required(prefix + "encoder.layers.0.mlp.fc1.weight").Shape[0];
            var config = new ClipTextConfig(hidden, layers, Heads(hidden), intermediate, QuickGelu: true, (int)tokens.Shape[0]) { MaxPositions = (int)positions.Shape[0] };
            return (StableDiffusionFamily.Sd1, config, layers);
        }
        {
            string prefix = LdmNames.OpenClipText;
            var tokens = Required(prefix + "token_embedding.weight");
            var positions = Required(prefix + "positional_embedding");
            int blocks = CountIndices(prefix + "transformer.resblocks.");
            string? layer = yaml?.Find("cond_stage_config.params.layer");
            int used = layer == "last" ? blocks : blocks == options.OpenClipFullLayers ? blocks - 1 : blocks;
            int hidden = (int)tokens.Shape[1];
            int intermediate = (int)Required(prefix + "transformer.resblocks.0.mlp.c_fc.weight").Shape[0];
            var config = new ClipTextConfig(hidden, used, Heads(hidden), intermediate, QuickGelu: false, (int)tokens.Shape[0]) { MaxPositions = (int)positions.Shape[0] };
            return (StableDiffusionFamily.Sd2, config, blocks);
        }

        // CLIP ViT-L/14 (12 heads at 768) and OpenCLIP ViT-H/14 (16 heads at 1024) both use 64-channel heads.
        int Heads(int hidden) => hidden % PublishedClipHeadChannels == 0 && hidden >= PublishedClipHeadChannels
            ? hidden / PublishedClipHeadChannels
            : throw new ModelImportException(Origin, $"'{Origin}': a text encoder {hidden} wide does not split into CLIP's 64-channel heads: not an SD 1.x/2.x text encoder.");
    }

    private SdUnetConfig InferUnet(StableDiffusionFamily family, out string headsSource)
    {
        const string p = LdmNames.Unet;
        var convIn = Required(p + "input_blocks.0.0.weight");
        int inChannels = (int)convIn.Shape[1];
        if (inChannels == 9)
        {
            throw new ModelImportException(Origin, $"'{Origin}' is an inpainting UNet (9 input channels: latents, mask and masked image): inpainting models are not supported; use the base model.");
        }
        int outChannels = (int)Required(p + "out.2.weight").Shape[0];
        if (inChannels != 4 || outChannels != 4)
        {
            throw new ModelImportException(Origin, $"'{Origin}': the UNet takes {inChannels} and returns {outChannels} channels; SD 1.x/2.x text-to-image UNets use 4 (depth, instruct-pix2pix and other variants are not supported).");
        }
        int levels = file.Names.Count(n => n.StartsWith(p + "input_blocks.", StringComparison.Ordinal) && n.EndsWith(".0.op.weight", StringComparison.Ordinal)) + 1;
        int inputBlocks = CountIndices(p + "input_blocks.");
        // input_blocks = conv_in + L layers per level + a downsampler between levels.
        if ((inputBlocks - levels) % levels != 0 || (inputBlocks - levels) / levels < 1)
        {
            throw new ModelImportException(Origin, $"'{Origin}': {inputBlocks} UNet input blocks with {levels} levels fit no SD layout.");
        }
        int layers = (inputBlocks - levels) / levels;
        var channels = new int[levels];
        for (int i = 0; i < levels; i++)
        {
            string first = $"{p}input_blocks.{1 + i * (layers + 1)}";
            channels[i] = (int)Required(first + ".0.out_layers.3.weight").Shape[0];
            bool attention = file.Contains(first + ".1.norm.weight");
            if (attention != (i < levels - 1))
            {
                throw new ModelImportException(Origin, $"'{Origin}': UNet level {i} {(attention ? "has" : "lacks")} attention; SD 1.x/2.x have it in every level but the last. Unknown layout.");
            }
        }
        if (file.Names.Any(n => n.StartsWith(p, StringComparison.Ordinal) && n.Contains(".transformer_blocks.1.", StringComparison.Ordinal)))
        {
            throw new ModelImportException(Origin, $"'{Origin}': the UNet has more than one transformer block per attention layer (as SDXL does): not an SD 1.x/2.x layout.");
        }
        string firstAttention = p + "input_blocks.1.1.";
        int context = (int)Required(firstAttention + "transformer_blocks.0.attn2.to_k.weight").Shape[1];
        if (context == 2048)
        {
            throw new ModelImportException(Origin, $"'{Origin}' has a 2048-wide cross-attention context, SDXL's: SDXL is not supported.");
        }
        bool linear = Required(firstAttention + "proj_in.weight").Shape.Length == 2;

        int? yamlHeads = yaml?.FindInt("unet_config.params.num_heads");
        int? yamlHeadChannels = yaml?.FindInt("unet_config.params.num_head_channels");
        int? heads = null, headDim = null;
        if (yamlHeadChannels is > 0)
        {
            headDim = yamlHeadChannels;
            headsSource = $"num_head_channels from '{yaml!.Path}'";
        }
        else if (yamlHeads is > 0)
        {
            heads = yamlHeads;
            headsSource = $"num_heads from '{yaml!.Path}'";
        }
        else if (family == StableDiffusionFamily.Sd1)
        {
            heads = PublishedSd1Heads;
            headsSource = "the published SD 1.x value";
        }
        else
        {
            headDim = PublishedSd2HeadChannels;
            headsSource = "the published SD 2.x value";
        }
        if (yaml?.FindBool("unet_config.params.use_linear_in_transformer") is { } yamlLinear && yamlLinear != linear)
        {
            throw new ModelImportException(Origin, $"'{yaml.Path}' says use_linear_in_transformer: {yamlLinear} but '{Origin}' has {(linear ? "linear" : "convolutional")} projections: the config is not this checkpoint's.");
        }
        if (yaml?.FindInt("unet_config.params.context_dim") is { } yamlContext && yamlContext != context)
        {
            throw new ModelImportException(Origin, $"'{yaml.Path}' says context_dim: {yamlContext} but '{Origin}' has a {context}-wide context: the config is not this checkpoint's.");
        }
        foreach (int c in channels[..^1])
        {
            int h = heads ?? c / headDim!.Value;
            if (h < 1 || c % h != 0 || (headDim is { } d && c % d != 0))
            {
                throw new ModelImportException(Origin, $"'{Origin}': a UNet level of {c} channels does not split into {(headDim is { } dd ? $"{dd}-channel heads" : $"{heads} heads")} ({headsSource}). Pass the checkpoint's original config (--original-config) with its num_heads or num_head_channels.");
            }
        }
        var config = new SdUnetConfig(channels, layers, context, headDim, heads ?? 0, linear, PublishedGroups, inChannels);
        return headDim is { } hd ? config with { HeadsPerLevel = channels.Select(c => c / hd).ToArray() } : config;
    }

    private SdVaeConfig InferVae()
    {
        const string p = LdmNames.Vae;
        if (!file.Names.Any(n => n.StartsWith(p, StringComparison.Ordinal)))
        {
            throw new ModelImportException(Origin, $"'{Origin}' holds no VAE (first_stage_model.*): a UNet-only file cannot be imported on its own.");
        }
        int levels = CountIndices(p + "encoder.down.");
        if (levels < 1)
        {
            throw new ModelImportException(Origin, $"'{Origin}': the VAE has no encoder levels (first_stage_model.encoder.down.*): unknown layout.");
        }
        var channels = new int[levels];
        for (int i = 0; i < levels; i++)
        {
            channels[i] = (int)Required($"{p}encoder.down.{i}.block.0.conv2.weight").Shape[0];
        }
        int layers = CountIndices(p + "encoder.down.0.block.");
        int latent = (int)Required(p + "quant_conv.weight").Shape[0] / 2;
        return new SdVaeConfig(channels, layers, PublishedGroups, latent);
    }

    private (PredictionType, string) InferPrediction(StableDiffusionFamily family)
    {
        if (options.PredictionType is { } given)
        {
            return (given, "given");
        }
        if (yaml is not null)
        {
            // LDM's default parameterization is eps; v-models say "v".
            return yaml.Find("model.params.parameterization") switch
            {
                null or "eps" => (PredictionType.Epsilon, $"'{yaml.Path}' has no v parameterization"),
                "v" => (PredictionType.VPrediction, $"parameterization v in '{yaml.Path}'"),
                "x0" => (PredictionType.Sample, $"parameterization x0 in '{yaml.Path}'"),
                var other => throw new LatentIndigoException($"'{yaml.Path}': parameterization '{other}' is unknown (eps, v or x0)."),
            };
        }
        if (family == StableDiffusionFamily.Sd1)
        {
            return (PredictionType.Epsilon, "every SD 1.x model predicts ε");
        }
        throw new ModelImportException(Origin,
            $"'{Origin}' is an SD 2.x checkpoint and the file does not say what its UNet predicts. 768-pixel SD 2.x models "
            + "(e.g. v2-1_768-ema-pruned) are v-prediction, 512-pixel base models (e.g. v2-1_512-ema-pruned) epsilon: pass "
            + "--prediction-type v_prediction or --prediction-type epsilon, or the checkpoint's original config (--original-config v2-inference-v.yaml).");
    }

    private WeightInfo Required(string name) =>
        file.Contains(name)
            ? file.Info(name)
            : throw new ModelImportException(Origin, $"'{Origin}' lacks '{name}', which every SD 1.x/2.x checkpoint has: an unknown layout or a damaged file.");

    /// <summary>1 + the largest integer that follows <paramref name="prefix"/> in a tensor name (0 when none does).</summary>
    private int CountIndices(string prefix)
    {
        int count = 0;
        foreach (var n in file.Names)
        {
            if (n.StartsWith(prefix, StringComparison.Ordinal))
            {
                int end = n.IndexOf('.', prefix.Length);
                if (end > prefix.Length && int.TryParse(n.AsSpan(prefix.Length, end - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int i))
                {
                    count = Math.Max(count, i + 1);
                }
            }
        }
        return count;
    }
}
