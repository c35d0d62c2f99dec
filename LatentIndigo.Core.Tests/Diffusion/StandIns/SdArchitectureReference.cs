using LatentIndigo.StandIns;
using TorchSharp;
using static LatentIndigo.StandIns.StandInWeights;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LatentIndigo.Tests.Diffusion.StandIns;

/// <summary>
/// An independent float64 TorchSharp implementation of the SD architecture stand-ins (UNet2DConditionModel-style
/// UNet, AutoencoderKL-style VAE, CLIP-style text encoder), written from the published architectures with
/// TorchSharp's own conv2d / group_norm / layer_norm / linear / softmax / gelu, and the same named weights
/// (<see cref="StandInWeights"/>, or any tensors by name: an imported checkpoint's), to check what ONNX Runtime
/// computes from the generated graphs. Call inside a dispose scope.
/// </summary>
internal sealed class SdArchitectureReference
{
    private readonly StandInArchitecture a;
    private readonly Func<string, long[], Init, double[]> weights;

    /// <summary>The reference of a stand-in: its random weights by seed.</summary>
    public SdArchitectureReference(StandInArchitecture architecture)
        : this(architecture, (name, shape, init) => Array.ConvertAll(Get(architecture.Seed, name, shape, init), v => (double)v))
    {
    }

    /// <summary>
    /// The reference with the weights of <paramref name="named"/> (diffusers/transformers names, PyTorch shapes, float64
    /// values as the checkpoint holds them); <paramref name="architecture"/>'s seed is unused.
    /// </summary>
    public SdArchitectureReference(StandInArchitecture architecture, IReadOnlyDictionary<string, (long[] Shape, double[] Values)> named)
        : this(architecture, (name, shape, _) =>
        {
            var (actual, values) = named.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"reference weights lack '{name}'");
            if (!actual.SequenceEqual(shape))
            {
                throw new InvalidOperationException($"'{name}': reference weights are [{string.Join(", ", actual)}], the architecture wants [{string.Join(", ", shape)}]");
            }
            return values;
        })
    {
    }

    private SdArchitectureReference(StandInArchitecture architecture, Func<string, long[], Init, double[]> weights)
    {
        a = architecture;
        this.weights = weights;
    }

    private Tensor W(string name, long[] shape, Init init) => torch.tensor(weights(name, shape, init), shape, ScalarType.Float64);

    private Tensor Conv(Tensor x, string name, int cin, int cout, int k, int stride = 1, bool vaeDownsample = false)
    {
        var w = W(name + ".weight", [cout, cin, k, k], Init.FanIn);
        var b = W(name + ".bias", [cout], Init.Small);
        if (vaeDownsample)
        {
            return F.conv2d(F.pad(x, [0, 1, 0, 1]), w, b, strides: [stride, stride]);
        }
        return F.conv2d(x, w, b, strides: [stride, stride], padding: [k / 2, k / 2]);
    }

    private Tensor Linear(Tensor x, string name, int cin, int cout, bool bias = true) =>
        F.linear(x, W(name + ".weight", [cout, cin], Init.FanIn), bias ? W(name + ".bias", [cout], Init.Small) : null);

    private Tensor GroupNorm(Tensor x, string name, int channels, int groups, double eps) =>
        F.group_norm(x, groups, W(name + ".weight", [channels], Init.NearOne), W(name + ".bias", [channels], Init.Small), eps);

    private Tensor LayerNorm(Tensor x, string name, int dim, double eps = 1e-5) =>
        F.layer_norm(x, [dim], W(name + ".weight", [dim], Init.NearOne), W(name + ".bias", [dim], Init.Small), eps);

    private static Tensor Silu(Tensor x) => F.silu(x);

    private Tensor Attention(Tensor x, Tensor? context, string name, int dim, int contextDim, int heads, bool bias, Tensor? mask = null,
        string q = "to_q", string k = "to_k", string v = "to_v", string o = "to_out.0")
    {
        var kv = context ?? x;
        long batch = x.shape[0], n = x.shape[1], m = kv.shape[1];
        int d = dim / heads;
        var qh = Linear(x, $"{name}.{q}", dim, dim, bias).view(batch, n, heads, d).transpose(1, 2);
        var kh = Linear(kv, $"{name}.{k}", contextDim, dim, bias).view(batch, m, heads, d).transpose(1, 2);
        var vh = Linear(kv, $"{name}.{v}", contextDim, dim, bias).view(batch, m, heads, d).transpose(1, 2);
        var scores = torch.matmul(qh, kh.transpose(2, 3)) / Math.Sqrt(d);
        if (mask is not null)
        {
            scores = scores + mask;
        }
        var merged = torch.matmul(scores.softmax(-1), vh).transpose(1, 2).reshape(batch, n, dim);
        return Linear(merged, $"{name}.{o}", dim, dim);
    }

    private Tensor ResNet(Tensor x, string name, int cin, int cout, int groups, double eps, Tensor? temb, int tembDim)
    {
        var h = Conv(Silu(GroupNorm(x, name + ".norm1", cin, groups, eps)), name + ".conv1", cin, cout, 3);
        if (temb is not null)
        {
            h = h + Linear(Silu(temb), name + ".time_emb_proj", tembDim, cout)[.., .., TensorIndex.None, TensorIndex.None];
        }
        h = Conv(Silu(GroupNorm(h, name + ".norm2", cout, groups, eps)), name + ".conv2", cout, cout, 3);
        return (cin == cout ? x : Conv(x, name + ".conv_shortcut", cin, cout, 1)) + h;
    }

    private static Tensor Flatten(Tensor x) => x.flatten(2).transpose(1, 2);

    private static Tensor Unflatten(Tensor x, Tensor like) => x.transpose(1, 2).reshape(like.shape);

    private Tensor Upsample(Tensor x, string name, int channels) =>
        Conv(F.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest), name + ".conv", channels, channels, 3);

    /// <summary>ε̂ for latents [B,C,h,w], one timestep, text [B,seq,cross].</summary>
    public Tensor Unet(Tensor sample, double timestep, Tensor text)
    {
        var c = a.Unet;
        var b = c.BlockOutChannels;
        int n = b.Length, tembDim = c.TimeEmbeddingDim, half = b[0] / 2;
        var freqs = torch.exp(torch.arange(half, ScalarType.Float64) * (-Math.Log(10000) / half));
        var angles = (freqs * timestep).unsqueeze(0).expand(sample.shape[0], -1);
        var embedding = torch.cat([angles.cos(), angles.sin()], 1);
        var temb = Linear(Silu(Linear(embedding, "time_embedding.linear_1", b[0], tembDim)), "time_embedding.linear_2", tembDim, tembDim);

        var h = Conv(sample, "conv_in", c.LatentChannels, b[0], 3);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        int channels = b[0];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < c.LayersPerBlock; j++)
            {
                h = ResNet(h, $"down_blocks.{i}.resnets.{j}", channels, b[i], c.NormGroups, 1e-5, temb, tembDim);
                channels = b[i];
                if (i < n - 1)
                {
                    h = Transformer(h, $"down_blocks.{i}.attentions.{j}", channels, c.HeadsAtLevel(i), text);
                }
                skips.Push(h);
            }
            if (i < n - 1)
            {
                h = Conv(h, $"down_blocks.{i}.downsamplers.0.conv", channels, channels, 3, stride: 2);
                skips.Push(h);
            }
        }
        h = ResNet(h, "mid_block.resnets.0", channels, channels, c.NormGroups, 1e-5, temb, tembDim);
        h = Transformer(h, "mid_block.attentions.0", channels, c.HeadsAtLevel(n - 1), text);
        h = ResNet(h, "mid_block.resnets.1", channels, channels, c.NormGroups, 1e-5, temb, tembDim);
        for (int i = 0; i < n; i++)
        {
            int outChannels = b[n - 1 - i];
            for (int j = 0; j <= c.LayersPerBlock; j++)
            {
                var skip = skips.Pop();
                h = ResNet(torch.cat([h, skip], 1), $"up_blocks.{i}.resnets.{j}", channels + (int)skip.shape[1], outChannels, c.NormGroups, 1e-5, temb, tembDim);
                channels = outChannels;
                if (i > 0)
                {
                    h = Transformer(h, $"up_blocks.{i}.attentions.{j}", channels, c.HeadsAtLevel(n - 1 - i), text);
                }
            }
            if (i < n - 1)
            {
                h = Upsample(h, $"up_blocks.{i}.upsamplers.0", channels);
            }
        }
        return Conv(Silu(GroupNorm(h, "conv_norm_out", channels, c.NormGroups, 1e-5)), "conv_out", channels, c.LatentChannels, 3);
    }

    private Tensor Transformer(Tensor x, string name, int channels, int heads, Tensor text)
    {
        var c = a.Unet;
        var h = GroupNorm(x, name + ".norm", channels, c.NormGroups, 1e-6);
        h = c.LinearProjection ? Linear(Flatten(h), name + ".proj_in", channels, channels) : Flatten(Conv(h, name + ".proj_in", channels, channels, 1));
        var block = name + ".transformer_blocks.0";
        h = h + Attention(LayerNorm(h, block + ".norm1", channels), null, block + ".attn1", channels, channels, heads, false);
        h = h + Attention(LayerNorm(h, block + ".norm2", channels), text, block + ".attn2", channels, c.CrossAttentionDim, heads, false);
        var parts = Linear(LayerNorm(h, block + ".norm3", channels), block + ".ff.net.0.proj", channels, 8 * channels).chunk(2, -1);
        h = h + Linear(parts[0] * F.gelu(parts[1]), block + ".ff.net.2", 4 * channels, channels);
        var output = c.LinearProjection ? Unflatten(Linear(h, name + ".proj_out", channels, channels), x) : Conv(Unflatten(h, x), name + ".proj_out", channels, channels, 1);
        return output + x;
    }

    /// <summary>Encoder moments [B, 2C, h, w] (mean, then log-variance) of an image in [−1, 1].</summary>
    public Tensor VaeMoments(Tensor image)
    {
        var c = a.Vae;
        var b = c.BlockOutChannels;
        int n = b.Length;
        var h = Conv(image, "encoder.conv_in", 3, b[0], 3);
        int channels = b[0];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < c.LayersPerBlock; j++)
            {
                h = ResNet(h, $"encoder.down_blocks.{i}.resnets.{j}", channels, b[i], c.NormGroups, 1e-6, null, 0);
                channels = b[i];
            }
            if (i < n - 1)
            {
                h = Conv(h, $"encoder.down_blocks.{i}.downsamplers.0.conv", channels, channels, 3, stride: 2, vaeDownsample: true);
            }
        }
        h = VaeMid(h, "encoder.mid_block", channels);
        h = Conv(Silu(GroupNorm(h, "encoder.conv_norm_out", channels, c.NormGroups, 1e-6)), "encoder.conv_out", channels, 2 * c.LatentChannels, 3);
        return Conv(h, "quant_conv", 2 * c.LatentChannels, 2 * c.LatentChannels, 1);
    }

    /// <summary>Decoded image of unscaled latents.</summary>
    public Tensor VaeDecode(Tensor latents)
    {
        var c = a.Vae;
        var b = c.BlockOutChannels;
        int n = b.Length, channels = b[n - 1];
        var h = Conv(Conv(latents, "post_quant_conv", c.LatentChannels, c.LatentChannels, 1), "decoder.conv_in", c.LatentChannels, channels, 3);
        h = VaeMid(h, "decoder.mid_block", channels);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= c.LayersPerBlock; j++)
            {
                h = ResNet(h, $"decoder.up_blocks.{i}.resnets.{j}", channels, b[n - 1 - i], c.NormGroups, 1e-6, null, 0);
                channels = b[n - 1 - i];
            }
            if (i < n - 1)
            {
                h = Upsample(h, $"decoder.up_blocks.{i}.upsamplers.0", channels);
            }
        }
        return Conv(Silu(GroupNorm(h, "decoder.conv_norm_out", channels, c.NormGroups, 1e-6)), "decoder.conv_out", channels, 3, 3);
    }

    private Tensor VaeMid(Tensor x, string name, int channels)
    {
        var c = a.Vae;
        var h = ResNet(x, name + ".resnets.0", channels, channels, c.NormGroups, 1e-6, null, 0);
        if (!c.MidBlockAttention)
        {
            return ResNet(h, name + ".resnets.1", channels, channels, c.NormGroups, 1e-6, null, 0);
        }
        var normed = Flatten(GroupNorm(h, name + ".attentions.0.group_norm", channels, c.NormGroups, 1e-6));
        h = Unflatten(Attention(normed, null, name + ".attentions.0", channels, channels, 1, true), h) + h;
        return ResNet(h, name + ".resnets.1", channels, channels, c.NormGroups, 1e-6, null, 0);
    }

    /// <summary>last_hidden_state [1, seq, hidden] of token ids.</summary>
    public Tensor Text(int[] ids)
    {
        var c = a.Text;
        int seq = ids.Length;
        using var index = torch.tensor(ids.Select(i => (long)i).ToArray(), [1, seq]);
        var h = W("text_model.embeddings.token_embedding.weight", [c.VocabularySize, c.Hidden], Init.Embedding).index_select(0, index.flatten()).unsqueeze(0)
            + W("text_model.embeddings.position_embedding.weight", [c.MaxPositions, c.Hidden], Init.Embedding)[..seq].unsqueeze(0);
        var mask = torch.full([seq, seq], double.NegativeInfinity, ScalarType.Float64).triu(1);
        for (int i = 0; i < c.Layers; i++)
        {
            var name = $"text_model.encoder.layers.{i}";
            h = h + Attention(LayerNorm(h, name + ".layer_norm1", c.Hidden), null, name + ".self_attn", c.Hidden, c.Hidden, c.Heads, true, mask,
                "q_proj", "k_proj", "v_proj", "out_proj");
            var up = Linear(LayerNorm(h, name + ".layer_norm2", c.Hidden), name + ".mlp.fc1", c.Hidden, c.Intermediate);
            var act = c.QuickGelu ? up * torch.sigmoid(up * 1.702) : F.gelu(up);
            h = h + Linear(act, name + ".mlp.fc2", c.Intermediate, c.Hidden);
        }
        return LayerNorm(h, "text_model.final_layer_norm", c.Hidden);
    }
}
