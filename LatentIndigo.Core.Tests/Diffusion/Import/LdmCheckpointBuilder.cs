using LatentIndigo.Weights;

namespace LatentIndigo.Tests.Diffusion.Import;

/// <summary>One tensor of a test checkpoint: its LDM name and shape, and where diffusers keeps it.</summary>
/// <param name="Ldm">Full LDM key (e.g. <c>model.diffusion_model.input_blocks.1.0.in_layers.0.weight</c>).</param>
/// <param name="Diffusers">The component and diffusers name it becomes, or null for tensors SD does not use.</param>
/// <param name="Part">For OpenCLIP's fused in_proj: which third (q 0, k 1, v 2) the diffusers tensor is; -1 otherwise.</param>
internal sealed record LdmTensor(string Ldm, long[] Shape, (string Component, string Name)? Diffusers, int Part = -1, params (string Component, string Name)[] More);

/// <summary>Sizes of a tiny SD-shaped model (channel counts are multiples of 32 so SD's 32 groups apply).</summary>
internal sealed record TinyLdm(int[] UnetChannels, int UnetLayers, int Context, bool LinearProjection, int[] VaeChannels, int VaeLayers,
    int TextWidth, int TextBlocks, int TextIntermediate, bool OpenClip, bool VaeAttentionAsConv = true, bool ClipTextModelLevel = true,
    int Vocabulary = 100)
{
    /// <summary>SD 1.x-shaped: conv proj_in, CLIP text encoder, 8 heads (4 and 8 channels each).</summary>
    public static TinyLdm Sd1 { get; } = new([32, 64, 64], 2, 64, false, [32, 64], 2, 64, 2, 128, OpenClip: false);

    /// <summary>SD 2.x-shaped: linear proj_in, OpenCLIP text encoder (3 blocks: the full tiny tower), 64-channel heads.</summary>
    public static TinyLdm Sd2 { get; } = new([64, 128], 1, 64, true, [32, 64], 1, 64, 3, 128, OpenClip: true, VaeAttentionAsConv: false);

    /// <summary>
    /// <see cref="Sd1"/> with SD's 4-level VAE (latents 1/8 of the image, as the library loads) and CLIP's full vocabulary
    /// (the empty prompt's ids 49406/49407 exist): converts into an export that restores.
    /// </summary>
    public static TinyLdm Sd1Runnable { get; } = Sd1 with { VaeChannels = [32, 32, 64, 64], VaeLayers = 1, Vocabulary = 49408 };

    /// <summary><see cref="Sd2"/> made runnable like <see cref="Sd1Runnable"/>.</summary>
    public static TinyLdm Sd2Runnable { get; } = Sd2 with { VaeChannels = [32, 32, 64, 64], VaeLayers = 1, Vocabulary = 49408 };
}

/// <summary>
/// Enumerates the LDM module tree of a tiny model the way LDM's own constructors build it (UNetModel's
/// input_blocks/middle_block/output_blocks with its skip-channel stack, the VAE Encoder/Decoder, CLIP or OpenCLIP),
/// recording beside each tensor the diffusers name it must end up under — independently of the importer's
/// name-parsing rules (LdmNames), which the tests check against this.
/// </summary>
internal static class LdmCheckpointBuilder
{
    public static List<LdmTensor> Enumerate(TinyLdm m)
    {
        var list = new List<LdmTensor>();
        Unet(m, list);
        Vae(m, list);
        if (m.OpenClip)
        {
            OpenClip(m, list);
        }
        else
        {
            Clip(m, list);
        }
        // DDPM schedule buffers that LDM checkpoints carry: not weights of any component.
        list.Add(new("betas", [1000], null));
        list.Add(new("alphas_cumprod", [1000], null));
        return list;
    }

    private static void Unet(TinyLdm m, List<LdmTensor> list)
    {
        const string p = "model.diffusion_model.";
        int c0 = m.UnetChannels[0], temb = 4 * c0, n = m.UnetChannels.Length;
        void T(string ldm, long[] shape, string? diffusers) => list.Add(new(p + ldm, shape, diffusers is null ? null : ("unet", diffusers)));
        void Linear(string ldm, string d, long outF, long inF, bool bias = true)
        {
            T(ldm + ".weight", [outF, inF], d + ".weight");
            if (bias)
            {
                T(ldm + ".bias", [outF], d + ".bias");
            }
        }
        void Conv(string ldm, string d, long outC, long inC, int k)
        {
            T(ldm + ".weight", [outC, inC, k, k], d + ".weight");
            T(ldm + ".bias", [outC], d + ".bias");
        }
        void Norm(string ldm, string d, long c)
        {
            T(ldm + ".weight", [c], d + ".weight");
            T(ldm + ".bias", [c], d + ".bias");
        }
        void Res(string ldm, string d, int cin, int cout)
        {
            Norm(ldm + ".in_layers.0", d + ".norm1", cin);
            Conv(ldm + ".in_layers.2", d + ".conv1", cout, cin, 3);
            Linear(ldm + ".emb_layers.1", d + ".time_emb_proj", cout, temb);
            Norm(ldm + ".out_layers.0", d + ".norm2", cout);
            Conv(ldm + ".out_layers.3", d + ".conv2", cout, cout, 3);
            if (cin != cout)
            {
                Conv(ldm + ".skip_connection", d + ".conv_shortcut", cout, cin, 1);
            }
        }
        void Attn(string ldm, string d, int c)
        {
            Norm(ldm + ".norm", d + ".norm", c);
            if (m.LinearProjection)
            {
                Linear(ldm + ".proj_in", d + ".proj_in", c, c);
            }
            else
            {
                Conv(ldm + ".proj_in", d + ".proj_in", c, c, 1);
            }
            string b = ".transformer_blocks.0";
            foreach (var (a, ctx) in new[] { ("attn1", c), ("attn2", m.Context) })
            {
                Linear($"{ldm}{b}.{a}.to_q", $"{d}{b}.{a}.to_q", c, c, bias: false);
                Linear($"{ldm}{b}.{a}.to_k", $"{d}{b}.{a}.to_k", c, ctx, bias: false);
                Linear($"{ldm}{b}.{a}.to_v", $"{d}{b}.{a}.to_v", c, ctx, bias: false);
                Linear($"{ldm}{b}.{a}.to_out.0", $"{d}{b}.{a}.to_out.0", c, c);
            }
            foreach (var norm in new[] { "norm1", "norm2", "norm3" })
            {
                Norm($"{ldm}{b}.{norm}", $"{d}{b}.{norm}", c);
            }
            Linear($"{ldm}{b}.ff.net.0.proj", $"{d}{b}.ff.net.0.proj", 8 * c, c);
            Linear($"{ldm}{b}.ff.net.2", $"{d}{b}.ff.net.2", c, 4 * c);
            if (m.LinearProjection)
            {
                Linear(ldm + ".proj_out", d + ".proj_out", c, c);
            }
            else
            {
                Conv(ldm + ".proj_out", d + ".proj_out", c, c, 1);
            }
        }

        Linear("time_embed.0", "time_embedding.linear_1", temb, c0);
        Linear("time_embed.2", "time_embedding.linear_2", temb, temb);
        Conv("input_blocks.0.0", "conv_in", c0, 4, 3);
        var skips = new Stack<int>();
        skips.Push(c0);
        int block = 1, ch = c0;
        for (int level = 0; level < n; level++)
        {
            for (int j = 0; j < m.UnetLayers; j++)
            {
                Res($"input_blocks.{block}.0", $"down_blocks.{level}.resnets.{j}", ch, m.UnetChannels[level]);
                ch = m.UnetChannels[level];
                if (level < n - 1)
                {
                    Attn($"input_blocks.{block}.1", $"down_blocks.{level}.attentions.{j}", ch);
                }
                skips.Push(ch);
                block++;
            }
            if (level < n - 1)
            {
                Conv($"input_blocks.{block}.0.op", $"down_blocks.{level}.downsamplers.0.conv", ch, ch, 3);
                skips.Push(ch);
                block++;
            }
        }
        Res("middle_block.0", "mid_block.resnets.0", ch, ch);
        Attn("middle_block.1", "mid_block.attentions.0", ch);
        Res("middle_block.2", "mid_block.resnets.1", ch, ch);
        block = 0;
        for (int level = n - 1; level >= 0; level--)
        {
            int up = n - 1 - level;
            for (int j = 0; j <= m.UnetLayers; j++)
            {
                int layer = 0;
                Res($"output_blocks.{block}.{layer++}", $"up_blocks.{up}.resnets.{j}", ch + skips.Pop(), m.UnetChannels[level]);
                ch = m.UnetChannels[level];
                if (level < n - 1)
                {
                    Attn($"output_blocks.{block}.{layer++}", $"up_blocks.{up}.attentions.{j}", ch);
                }
                if (level > 0 && j == m.UnetLayers)
                {
                    Conv($"output_blocks.{block}.{layer}.conv", $"up_blocks.{up}.upsamplers.0.conv", ch, ch, 3);
                }
                block++;
            }
        }
        Norm("out.0", "conv_norm_out", c0);
        Conv("out.2", "conv_out", 4, c0, 3);
    }

    private static void Vae(TinyLdm m, List<LdmTensor> list)
    {
        const string p = "first_stage_model.";
        int n = m.VaeChannels.Length, z = 4;
        void T(string ldm, long[] shape, string d) => list.Add(new(p + ldm, shape, ("vae", d)));
        void Conv(string ldm, string d, long outC, long inC, int k)
        {
            T(ldm + ".weight", [outC, inC, k, k], d + ".weight");
            T(ldm + ".bias", [outC], d + ".bias");
        }
        void Norm(string ldm, string d, long c)
        {
            T(ldm + ".weight", [c], d + ".weight");
            T(ldm + ".bias", [c], d + ".bias");
        }
        void Res(string ldm, string d, int cin, int cout)
        {
            Norm(ldm + ".norm1", d + ".norm1", cin);
            Conv(ldm + ".conv1", d + ".conv1", cout, cin, 3);
            Norm(ldm + ".norm2", d + ".norm2", cout);
            Conv(ldm + ".conv2", d + ".conv2", cout, cout, 3);
            if (cin != cout)
            {
                Conv(ldm + ".nin_shortcut", d + ".conv_shortcut", cout, cin, 1);
            }
        }
        void Mid(string part, int c)
        {
            Res($"{part}.mid.block_1", $"{part}.mid_block.resnets.0", c, c);
            Norm($"{part}.mid.attn_1.norm", $"{part}.mid_block.attentions.0.group_norm", c);
            foreach (var (ldm, d) in new[] { ("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("proj_out", "to_out.0") })
            {
                T($"{part}.mid.attn_1.{ldm}.weight", m.VaeAttentionAsConv ? [c, c, 1, 1] : [c, c], $"{part}.mid_block.attentions.0.{d}.weight");
                T($"{part}.mid.attn_1.{ldm}.bias", [c], $"{part}.mid_block.attentions.0.{d}.bias");
            }
            Res($"{part}.mid.block_2", $"{part}.mid_block.resnets.1", c, c);
        }

        Conv("encoder.conv_in", "encoder.conv_in", m.VaeChannels[0], 3, 3);
        int ch = m.VaeChannels[0];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m.VaeLayers; j++)
            {
                Res($"encoder.down.{i}.block.{j}", $"encoder.down_blocks.{i}.resnets.{j}", ch, m.VaeChannels[i]);
                ch = m.VaeChannels[i];
            }
            if (i < n - 1)
            {
                Conv($"encoder.down.{i}.downsample.conv", $"encoder.down_blocks.{i}.downsamplers.0.conv", ch, ch, 3);
            }
        }
        Mid("encoder", ch);
        Norm("encoder.norm_out", "encoder.conv_norm_out", ch);
        Conv("encoder.conv_out", "encoder.conv_out", 2 * z, ch, 3);
        Conv("quant_conv", "quant_conv", 2 * z, 2 * z, 1);
        Conv("post_quant_conv", "post_quant_conv", z, z, 1);
        Conv("decoder.conv_in", "decoder.conv_in", ch, z, 3);
        Mid("decoder", ch);
        for (int i = n - 1; i >= 0; i--)
        {
            for (int j = 0; j <= m.VaeLayers; j++)
            {
                Res($"decoder.up.{i}.block.{j}", $"decoder.up_blocks.{n - 1 - i}.resnets.{j}", ch, m.VaeChannels[i]);
                ch = m.VaeChannels[i];
            }
            if (i > 0)
            {
                Conv($"decoder.up.{i}.upsample.conv", $"decoder.up_blocks.{n - 1 - i}.upsamplers.0.conv", ch, ch, 3);
            }
        }
        Norm("decoder.norm_out", "decoder.conv_norm_out", ch);
        Conv("decoder.conv_out", "decoder.conv_out", 3, ch, 3);
    }

    private static void Clip(TinyLdm m, List<LdmTensor> list)
    {
        string p = "cond_stage_model.transformer." + (m.ClipTextModelLevel ? "text_model." : "");
        int h = m.TextWidth;
        void T(string ldm, long[] shape) => list.Add(new(p + ldm, shape, ("text", "text_model." + ldm)));
        T("embeddings.token_embedding.weight", [m.Vocabulary, h]);
        T("embeddings.position_embedding.weight", [77, h]);
        list.Add(new(p + "embeddings.position_ids", [1, 77], null)); // an int64 buffer, not a weight
        for (int i = 0; i < m.TextBlocks; i++)
        {
            string l = $"encoder.layers.{i}.";
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                T(l + $"self_attn.{proj}.weight", [h, h]);
                T(l + $"self_attn.{proj}.bias", [h]);
            }
            T(l + "layer_norm1.weight", [h]);
            T(l + "layer_norm1.bias", [h]);
            T(l + "mlp.fc1.weight", [m.TextIntermediate, h]);
            T(l + "mlp.fc1.bias", [m.TextIntermediate]);
            T(l + "mlp.fc2.weight", [h, m.TextIntermediate]);
            T(l + "mlp.fc2.bias", [h]);
            T(l + "layer_norm2.weight", [h]);
            T(l + "layer_norm2.bias", [h]);
        }
        T("final_layer_norm.weight", [h]);
        T("final_layer_norm.bias", [h]);
    }

    /// <summary>OpenCLIP: diffusers keeps all blocks but the last when the file has the full tower (<see cref="TinyLdm.TextBlocks"/> = full depth).</summary>
    private static void OpenClip(TinyLdm m, List<LdmTensor> list, int usedBlocks = -1)
    {
        const string p = "cond_stage_model.model.";
        int h = m.TextWidth;
        list.Add(new(p + "token_embedding.weight", [m.Vocabulary, h], ("text", "text_model.embeddings.token_embedding.weight")));
        list.Add(new(p + "positional_embedding", [77, h], ("text", "text_model.embeddings.position_embedding.weight")));
        for (int i = 0; i < m.TextBlocks; i++)
        {
            string l = $"transformer.resblocks.{i}.";
            string d = $"text_model.encoder.layers.{i}.";
            bool used = i < (usedBlocks < 0 ? UsedOpenClipBlocks(m) : usedBlocks);
            (string, string)? D(string name) => used ? ("text", d + name) : null;
            list.Add(new(p + l + "ln_1.weight", [h], D("layer_norm1.weight")));
            list.Add(new(p + l + "ln_1.bias", [h], D("layer_norm1.bias")));
            if (used)
            {
                list.Add(new(p + l + "attn.in_proj_weight", [3 * h, h], ("text", d + "self_attn.q_proj.weight"), 0,
                    ("text", d + "self_attn.k_proj.weight"), ("text", d + "self_attn.v_proj.weight")));
                list.Add(new(p + l + "attn.in_proj_bias", [3 * h], ("text", d + "self_attn.q_proj.bias"), 0,
                    ("text", d + "self_attn.k_proj.bias"), ("text", d + "self_attn.v_proj.bias")));
            }
            else
            {
                list.Add(new(p + l + "attn.in_proj_weight", [3 * h, h], null));
                list.Add(new(p + l + "attn.in_proj_bias", [3 * h], null));
            }
            list.Add(new(p + l + "attn.out_proj.weight", [h, h], D("self_attn.out_proj.weight")));
            list.Add(new(p + l + "attn.out_proj.bias", [h], D("self_attn.out_proj.bias")));
            list.Add(new(p + l + "ln_2.weight", [h], D("layer_norm2.weight")));
            list.Add(new(p + l + "ln_2.bias", [h], D("layer_norm2.bias")));
            list.Add(new(p + l + "mlp.c_fc.weight", [m.TextIntermediate, h], D("mlp.fc1.weight")));
            list.Add(new(p + l + "mlp.c_fc.bias", [m.TextIntermediate], D("mlp.fc1.bias")));
            list.Add(new(p + l + "mlp.c_proj.weight", [h, m.TextIntermediate], D("mlp.fc2.weight")));
            list.Add(new(p + l + "mlp.c_proj.bias", [h], D("mlp.fc2.bias")));
        }
        list.Add(new(p + "ln_final.weight", [h], ("text", "text_model.final_layer_norm.weight")));
        list.Add(new(p + "ln_final.bias", [h], ("text", "text_model.final_layer_norm.bias")));
        list.Add(new(p + "text_projection", [h, h], null));
        list.Add(new(p + "logit_scale", [], null));
    }

    /// <summary>The tiny tests' full OpenCLIP depth (ViT-H has 24): a file with 3 blocks uses 2, a file with 2 uses both.</summary>
    public const int TinyOpenClipFullLayers = 3;

    public static int UsedOpenClipBlocks(TinyLdm m) => m.TextBlocks == TinyOpenClipFullLayers ? m.TextBlocks - 1 : m.TextBlocks;

    /// <summary>Values exactly representable in fp16 and bf16 (multiples of 1/64 in [-2, 2)), so every dtype reads back exactly.</summary>
    public static float[] Values(Random random, long count)
    {
        var v = new float[count];
        for (long i = 0; i < count; i++)
        {
            v[i] = random.Next(-128, 128) / 64f;
        }
        return v;
    }

    /// <summary>
    /// Writes the tensors (fp32/fp16/bf16 floats; position_ids as int64) as a safetensors file or a .ckpt (under
    /// state_dict, with global_step), adding an EMA copy of every UNet tensor when <paramref name="ema"/> is set.
    /// Returns the values by LDM name.
    /// </summary>
    public static Dictionary<string, float[]> Write(string path, IReadOnlyList<LdmTensor> tensors, WeightDType dtype, bool ema = false,
        int seed = 1, IEnumerable<(string Name, long[] Shape)>? extra = null)
    {
        var random = new Random(seed);
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var infos = new List<WeightInfo>();
        void Add(string name, long[] shape)
        {
            bool ids = name.EndsWith("position_ids", StringComparison.Ordinal);
            infos.Add(new WeightInfo(name, ids ? WeightDType.Int64 : dtype, shape));
            values[name] = Values(random, shape.Aggregate(1L, (a, b) => a * b));
        }
        foreach (var t in tensors)
        {
            Add(t.Ldm, t.Shape);
        }
        foreach (var (name, shape) in extra ?? [])
        {
            Add(name, shape);
        }
        if (ema)
        {
            foreach (var t in tensors.Where(t => t.Ldm.StartsWith("model.diffusion_model.", StringComparison.Ordinal)))
            {
                Add("model_ema." + t.Ldm["model.".Length..].Replace(".", "", StringComparison.Ordinal), t.Shape);
            }
            infos.Add(new WeightInfo("model_ema.decay", WeightDType.Float32, []));
            values["model_ema.decay"] = [0.9999f];
        }
        using var stream = File.Create(path);
        WeightWriter writer = path.EndsWith(".ckpt", StringComparison.Ordinal)
            ? new TorchCheckpointWriter(stream, infos, "state_dict", [new("global_step", 1000L)])
            : new SafetensorsWriter(stream, infos);
        using (writer)
        {
            foreach (var info in infos)
            {
                if (info.DType == WeightDType.Int64)
                {
                    writer.WriteBytes(info.Name, values[info.Name].SelectMany(v => BitConverter.GetBytes((long)v)).ToArray());
                }
                else
                {
                    writer.Write(info.Name, values[info.Name]);
                }
            }
            writer.Complete();
        }
        return values;
    }
}
