using System.Text.Json;
using LatentIndigo.Diffusion.Architecture;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// Reads the component configs of a diffusers pipeline folder into the architecture records: diffusers'
/// UNet2DConditionModel and AutoencoderKL <c>config.json</c> and transformers' CLIPTextConfig. Whatever the graphs here
/// do not implement (SDXL's added embeddings, inpainting's 9 input channels, other block types, …) is refused by name.
/// </summary>
internal static class DiffusersConfigs
{
    /// <summary>The UNet of <paramref name="path"/> and its native latent size.</summary>
    public static (SdUnetConfig Unet, int SampleSize) ReadUnet(string path)
    {
        using var doc = Open(path);
        var c = new ConfigReader(doc.RootElement, path);
        var className = c.String("_class_name", "UNet2DConditionModel");
        if (className != "UNet2DConditionModel")
        {
            throw c.Refuse($"_class_name is {className}, not UNet2DConditionModel (Stable Diffusion 1.x/2.x's UNet).");
        }
        if (c.String("addition_embed_type", null) is { } addition)
        {
            throw c.Refuse($"addition_embed_type = {addition}: an SDXL-style UNet (it also needs pooled text embeddings and time ids). Use a Stable Diffusion 1.x or 2.x model.");
        }
        if (c.String("class_embed_type", null) is { } classEmbed)
        {
            throw c.Refuse($"class_embed_type = {classEmbed}: a class-conditioned UNet (e.g. the x4 upscaler), not a Stable Diffusion 1.x/2.x text-to-image UNet.");
        }
        int inChannels = c.Int("in_channels", 4), outChannels = c.Int("out_channels", 4);
        if (inChannels == 9)
        {
            throw c.Refuse("in_channels = 9: an inpainting UNet (latents, mask and masked-image latents). LatentIndigo runs text-to-image Stable Diffusion 1.x/2.x UNets (4 channels).");
        }
        if (inChannels != outChannels)
        {
            throw c.Refuse($"in_channels = {inChannels} but out_channels = {outChannels}: not a Stable Diffusion 1.x/2.x text-to-image UNet.");
        }
        var blocks = c.Ints("block_out_channels", null);
        int n = blocks.Length;
        var down = c.Strings("down_block_types", [.. Enumerable.Repeat("CrossAttnDownBlock2D", n - 1), "DownBlock2D"]);
        var up = c.Strings("up_block_types", ["UpBlock2D", .. Enumerable.Repeat("CrossAttnUpBlock2D", n - 1)]);
        var expectedDown = Enumerable.Range(0, n).Select(i => i < n - 1 ? "CrossAttnDownBlock2D" : "DownBlock2D");
        var expectedUp = Enumerable.Range(0, n).Select(i => i == 0 ? "UpBlock2D" : "CrossAttnUpBlock2D");
        if (!down.SequenceEqual(expectedDown) || !up.SequenceEqual(expectedUp))
        {
            throw c.Refuse($"down_block_types [{string.Join(", ", down)}] / up_block_types [{string.Join(", ", up)}]: LatentIndigo builds Stable Diffusion's layout, "
                + "cross-attention blocks at every level but the deepest.");
        }
        c.Expect("mid_block_type", "UNetMidBlock2DCrossAttn");
        c.Expect("act_fn", "silu");
        c.Expect("time_embedding_type", "positional");
        c.Expect("resnet_time_scale_shift", "default");
        c.ExpectBool("flip_sin_to_cos", true);
        c.ExpectBool("dual_cross_attention", false);
        c.ExpectBool("center_input_sample", false);
        c.ExpectNumber("freq_shift", 0);
        c.ExpectNumber("norm_eps", 1e-5);
        c.ExpectNumber("conv_in_kernel", 3);
        c.ExpectNumber("conv_out_kernel", 3);
        c.ExpectNumber("downsample_padding", 1);
        c.ExpectNumber("mid_block_scale_factor", 1);
        if (c.Has("only_cross_attention") && c.IntsOrInt("only_cross_attention", n, boolean: true).Any(v => v != 0))
        {
            throw c.Refuse("only_cross_attention is set: not Stable Diffusion's transformer blocks.");
        }
        if (c.Has("transformer_layers_per_block") && c.IntsOrInt("transformer_layers_per_block", n).Any(v => v != 1))
        {
            throw c.Refuse("transformer_layers_per_block is not 1 (an SDXL-style UNet). Use a Stable Diffusion 1.x or 2.x model.");
        }
        var layers = c.IntsOrInt("layers_per_block", n, fallback: 2);
        if (layers.Distinct().Count() != 1)
        {
            throw c.Refuse($"layers_per_block differs between levels ([{string.Join(", ", layers)}]); Stable Diffusion has the same number at every level.");
        }
        // diffusers: num_attention_heads = num_attention_heads or attention_head_dim — in SD's configs attention_head_dim
        // counts heads (8 for SD 1.x; [5, 10, 20, 20] for SD 2.x, i.e. 64-channel heads).
        var heads = c.Has("num_attention_heads") && !c.IsNull("num_attention_heads")
            ? c.IntsOrInt("num_attention_heads", n)
            : c.IntsOrInt("attention_head_dim", n, fallback: 8);
        var unet = new SdUnetConfig(blocks, layers[0], c.Int("cross_attention_dim", 1280), HeadDim: null, Heads: heads[0],
            LinearProjection: c.Bool("use_linear_projection", false), NormGroups: c.Int("norm_num_groups", 32), LatentChannels: inChannels)
        {
            HeadsPerLevel = heads,
            UpcastAttention = c.Bool("upcast_attention", false),
        };
        return (unet, c.Int("sample_size", 64));
    }

    /// <summary>The VAE of <paramref name="path"/> and its scaling factor.</summary>
    public static (SdVaeConfig Vae, double ScalingFactor) ReadVae(string path)
    {
        using var doc = Open(path);
        var c = new ConfigReader(doc.RootElement, path);
        var className = c.String("_class_name", "AutoencoderKL");
        if (className != "AutoencoderKL")
        {
            throw c.Refuse($"_class_name is {className}, not AutoencoderKL (Stable Diffusion 1.x/2.x's VAE).");
        }
        var blocks = c.Ints("block_out_channels", null);
        int n = blocks.Length;
        if (!c.Strings("down_block_types", [.. Enumerable.Repeat("DownEncoderBlock2D", n)]).All(t => t == "DownEncoderBlock2D")
            || !c.Strings("up_block_types", [.. Enumerable.Repeat("UpDecoderBlock2D", n)]).All(t => t == "UpDecoderBlock2D"))
        {
            throw c.Refuse("down_block_types / up_block_types are not all DownEncoderBlock2D / UpDecoderBlock2D (Stable Diffusion's VAE).");
        }
        c.ExpectNumber("in_channels", 3);
        c.ExpectNumber("out_channels", 3);
        c.Expect("act_fn", "silu");
        c.ExpectBool("use_quant_conv", true);
        c.ExpectBool("use_post_quant_conv", true);
        if (c.Has("shift_factor") && !c.IsNull("shift_factor") && c.Double("shift_factor", 0) != 0)
        {
            throw c.Refuse("shift_factor is set: a VAE of a later model family (SD 3 / Flux), not Stable Diffusion 1.x/2.x's.");
        }
        var vae = new SdVaeConfig(blocks, c.Int("layers_per_block", 2), c.Int("norm_num_groups", 32), c.Int("latent_channels", 4))
        {
            MidBlockAttention = c.Bool("mid_block_add_attention", true),
        };
        return (vae, c.Double("scaling_factor", 0.18215));
    }

    /// <summary>The text encoder of <paramref name="path"/> (transformers' CLIPTextConfig).</summary>
    public static ClipTextConfig ReadText(string path)
    {
        using var doc = Open(path);
        var c = new ConfigReader(doc.RootElement, path);
        if (c.Strings("architectures", ["CLIPTextModel"]) is { Length: > 0 } arch && arch[0] != "CLIPTextModel")
        {
            throw c.Refuse($"architectures = {arch[0]}, not CLIPTextModel (a Stable Diffusion 1.x/2.x text encoder; SDXL's second encoder is CLIPTextModelWithProjection).");
        }
        var act = c.String("hidden_act", "quick_gelu");
        if (act is not ("quick_gelu" or "gelu"))
        {
            throw c.Refuse($"hidden_act = {act}; CLIP text encoders use quick_gelu (SD 1.x) or gelu (SD 2.x).");
        }
        return new ClipTextConfig(c.Int("hidden_size", 512), c.Int("num_hidden_layers", 12), c.Int("num_attention_heads", 8), c.Int("intermediate_size", 2048),
            QuickGelu: act == "quick_gelu", VocabularySize: c.Int("vocab_size", 49408))
        {
            MaxPositions = c.Int("max_position_embeddings", 77),
            LayerNormEps = (float)c.Double("layer_norm_eps", 1e-5),
        };
    }

    private static JsonDocument Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new LatentIndigoException($"'{path}' is missing: a diffusers pipeline folder has a config.json beside each component's weights.");
        }
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new LatentIndigoException($"'{path}' is not valid JSON ({e.Message}).", e);
        }
    }
}
