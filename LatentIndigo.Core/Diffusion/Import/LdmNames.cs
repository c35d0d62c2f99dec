using System.Globalization;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// The renaming rules from the original CompVis/LDM checkpoint layout to diffusers' and transformers' names, as
/// diffusers' single-file loader applies them (written from the published layouts, not from its code). Each function
/// takes a key relative to its component prefix and returns the diffusers name, or null when the key has no place in
/// the architecture (the caller reports it as unexpected).
/// </summary>
internal static class LdmNames
{
    /// <summary>Component prefixes of an LDM checkpoint.</summary>
    public const string Unet = "model.diffusion_model.";
    public const string Vae = "first_stage_model.";
    public const string ClipText = "cond_stage_model.transformer.";
    public const string OpenClipText = "cond_stage_model.model.";
    public const string Ema = "model_ema.";

    /// <summary>
    /// The EMA copy of a UNet key: LDM's EMA module stores <c>model.diffusion_model.a.b</c> as
    /// <c>model_ema.diffusion_modelab</c> (the name after <c>model.</c> with its dots removed).
    /// </summary>
    public static string EmaKey(string unetRelative) => Ema + ("diffusion_model." + unetRelative).Replace(".", "", StringComparison.Ordinal);

    /// <summary>
    /// A UNet key (after <see cref="Unet"/>). <paramref name="layersPerBlock"/> fixes how the flat
    /// <c>input_blocks</c>/<c>output_blocks</c> lists split into levels: L resnet(+attention) layers then a downsampler
    /// per down level, L + 1 layers (the last with the upsampler) per up level.
    /// </summary>
    public static string? UnetName(string key, int layersPerBlock)
    {
        var p = key.Split('.');
        string Rest(int from) => string.Join('.', p[from..]);
        switch (p[0])
        {
            case "time_embed" when p.Length == 3:
                return p[1] switch { "0" => "time_embedding.linear_1." + p[2], "2" => "time_embedding.linear_2." + p[2], _ => null };
            case "out" when p.Length == 3:
                return p[1] switch { "0" => "conv_norm_out." + p[2], "2" => "conv_out." + p[2], _ => null };
            case "input_blocks" when p.Length >= 4 && Int(p[1]) is { } k && Int(p[2]) is { } m:
                {
                    if (k == 0)
                    {
                        return m == 0 && p.Length == 4 ? "conv_in." + p[3] : null;
                    }
                    int level = (k - 1) / (layersPerBlock + 1), j = (k - 1) % (layersPerBlock + 1);
                    if (j < layersPerBlock)
                    {
                        return m switch
                        {
                            0 => Resnet($"down_blocks.{level}.resnets.{j}", p[3..]),
                            1 => $"down_blocks.{level}.attentions.{j}.{Rest(3)}",
                            _ => null,
                        };
                    }
                    return m == 0 && p[3] == "op" && p.Length == 5 ? $"down_blocks.{level}.downsamplers.0.conv.{p[4]}" : null;
                }
            case "middle_block" when p.Length >= 3 && Int(p[1]) is { } m:
                return m switch
                {
                    0 => Resnet("mid_block.resnets.0", p[2..]),
                    1 => "mid_block.attentions.0." + Rest(2),
                    2 => Resnet("mid_block.resnets.1", p[2..]),
                    _ => null,
                };
            case "output_blocks" when p.Length >= 4 && Int(p[1]) is { } k && Int(p[2]) is { } m:
                {
                    int level = k / (layersPerBlock + 1), j = k % (layersPerBlock + 1);
                    bool upsampler = p[3] == "conv" && p.Length == 5;
                    return m switch
                    {
                        0 => Resnet($"up_blocks.{level}.resnets.{j}", p[3..]),
                        1 when upsampler => $"up_blocks.{level}.upsamplers.0.conv.{p[4]}", // a level without attention
                        1 => $"up_blocks.{level}.attentions.{j}.{Rest(3)}",
                        2 when upsampler => $"up_blocks.{level}.upsamplers.0.conv.{p[4]}",
                        _ => null,
                    };
                }
            default:
                return null;
        }
    }

    private static string? Resnet(string prefix, string[] rest)
    {
        if (rest.Length == 2 && rest[0] == "skip_connection")
        {
            return $"{prefix}.conv_shortcut.{rest[1]}";
        }
        if (rest.Length != 3)
        {
            return null;
        }
        string? local = (rest[0], rest[1]) switch
        {
            ("in_layers", "0") => "norm1",
            ("in_layers", "2") => "conv1",
            ("emb_layers", "1") => "time_emb_proj",
            ("out_layers", "0") => "norm2",
            ("out_layers", "3") => "conv2",
            _ => null,
        };
        return local is null ? null : $"{prefix}.{local}.{rest[2]}";
    }

    /// <summary>
    /// A VAE key (after <see cref="Vae"/>). LDM numbers the decoder's levels from the bottom (<c>up.0</c> is the
    /// highest resolution) while diffusers numbers them in execution order, hence <paramref name="levels"/>.
    /// </summary>
    public static string? VaeName(string key, int levels)
    {
        var p = key.Split('.');
        if (p[0] is "quant_conv" or "post_quant_conv")
        {
            return p.Length == 2 ? key : null;
        }
        if (p[0] is not ("encoder" or "decoder") || p.Length < 3)
        {
            return null;
        }
        string part = p[0];
        switch (p[1])
        {
            case "conv_in" or "conv_out" when p.Length == 3:
                return key;
            case "norm_out" when p.Length == 3:
                return $"{part}.conv_norm_out.{p[2]}";
            case "down" when part == "encoder" && p.Length >= 5 && Int(p[2]) is { } i:
                if (p[3] == "block" && Int(p[4]) is { } j)
                {
                    return VaeResnet($"encoder.down_blocks.{i}.resnets.{j}", p[5..]);
                }
                return p[3] == "downsample" && p.Length == 6 && p[4] == "conv" ? $"encoder.down_blocks.{i}.downsamplers.0.conv.{p[5]}" : null;
            case "up" when part == "decoder" && p.Length >= 5 && Int(p[2]) is { } i:
                int level = levels - 1 - i;
                if (p[3] == "block" && Int(p[4]) is { } jj)
                {
                    return VaeResnet($"decoder.up_blocks.{level}.resnets.{jj}", p[5..]);
                }
                return p[3] == "upsample" && p.Length == 6 && p[4] == "conv" ? $"decoder.up_blocks.{level}.upsamplers.0.conv.{p[5]}" : null;
            case "mid" when p.Length >= 4:
                string mid = $"{part}.mid_block";
                return p[2] switch
                {
                    "block_1" => VaeResnet(mid + ".resnets.0", p[3..]),
                    "block_2" => VaeResnet(mid + ".resnets.1", p[3..]),
                    "attn_1" when p.Length == 5 => p[3] switch
                    {
                        "norm" => $"{mid}.attentions.0.group_norm.{p[4]}",
                        "q" => $"{mid}.attentions.0.to_q.{p[4]}",
                        "k" => $"{mid}.attentions.0.to_k.{p[4]}",
                        "v" => $"{mid}.attentions.0.to_v.{p[4]}",
                        "proj_out" => $"{mid}.attentions.0.to_out.0.{p[4]}",
                        _ => null,
                    },
                    _ => null,
                };
            default:
                return null;
        }
    }

    private static string? VaeResnet(string prefix, string[] rest)
    {
        if (rest.Length != 2)
        {
            return null;
        }
        string? local = rest[0] switch
        {
            "norm1" or "conv1" or "norm2" or "conv2" => rest[0],
            "nin_shortcut" => "conv_shortcut",
            _ => null,
        };
        return local is null ? null : $"{prefix}.{local}.{rest[1]}";
    }

    /// <summary>An SD 1.x text encoder key (after <see cref="ClipText"/>): transformers' CLIPTextModel, with or without the <c>text_model.</c> level.</summary>
    public static string ClipTextName(string key) => key.StartsWith("text_model.", StringComparison.Ordinal) ? key : "text_model." + key;

    /// <summary>
    /// An SD 2.x OpenCLIP text key (after <see cref="OpenClipText"/>) as (diffusers name, row slice) pairs: the fused
    /// attention <c>in_proj</c> becomes q/k/v (rows [0, C), [C, 2C), [2C, 3C)). Blocks at or past
    /// <paramref name="layers"/> and OpenCLIP parts diffusers does not use give an empty list with <paramref name="ignored"/> set.
    /// </summary>
    public static IReadOnlyList<(string Name, int Part)> OpenClipNames(string key, int layers, out bool ignored)
    {
        ignored = false;
        var p = key.Split('.');
        switch (p[0])
        {
            case "token_embedding" when p.Length == 2:
                return [("text_model.embeddings.token_embedding." + p[1], -1)];
            case "positional_embedding" when p.Length == 1:
                return [("text_model.embeddings.position_embedding.weight", -1)];
            case "ln_final" when p.Length == 2:
                return [("text_model.final_layer_norm." + p[1], -1)];
            case "text_projection" or "logit_scale" or "attn_mask" or "visual":
                ignored = true; // used by CLIP's image-text head, not by SD
                return [];
            case "transformer" when p.Length >= 5 && p[1] == "resblocks" && Int(p[2]) is { } i:
                if (i >= layers)
                {
                    ignored = true; // SD 2.x uses the penultimate block's output: the last block is never run
                    return [];
                }
                string layer = $"text_model.encoder.layers.{i}";
                return (p[3], p[4], p.Length) switch
                {
                    ("ln_1", _, 5) => [($"{layer}.layer_norm1.{p[4]}", -1)],
                    ("ln_2", _, 5) => [($"{layer}.layer_norm2.{p[4]}", -1)],
                    ("attn", "in_proj_weight", 5) => [($"{layer}.self_attn.q_proj.weight", 0), ($"{layer}.self_attn.k_proj.weight", 1), ($"{layer}.self_attn.v_proj.weight", 2)],
                    ("attn", "in_proj_bias", 5) => [($"{layer}.self_attn.q_proj.bias", 0), ($"{layer}.self_attn.k_proj.bias", 1), ($"{layer}.self_attn.v_proj.bias", 2)],
                    ("attn", "out_proj", 6) => [($"{layer}.self_attn.out_proj.{p[5]}", -1)],
                    ("mlp", "c_fc", 6) => [($"{layer}.mlp.fc1.{p[5]}", -1)],
                    ("mlp", "c_proj", 6) => [($"{layer}.mlp.fc2.{p[5]}", -1)],
                    _ => [],
                };
            default:
                return [];
        }
    }

    private static int? Int(string s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;
}
