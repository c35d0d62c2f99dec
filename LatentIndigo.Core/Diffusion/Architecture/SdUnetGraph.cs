using LatentIndigo.Onnx;

namespace LatentIndigo.Diffusion.Architecture;

/// <summary>
/// Builds a UNet2DConditionModel-style graph (Stable Diffusion's UNet, written from the published architecture) on
/// float32 tensors: the caller converts the export's inputs and output. Parameter names follow diffusers' state dict.
/// </summary>
internal static class SdUnetGraph
{
    private const float NormEps = 1e-5f;
    private const float TransformerNormEps = 1e-6f;

    /// <summary>ε̂ [B, C, h, w] from sample [B, C, h, w], timestep [B] (float32) and text [B, seq, cross].</summary>
    public static string Build(SdGraphLayers l, SdUnetConfig c, string sample, string timestep, string text)
    {
        var g = l.G;
        var b = c.BlockOutChannels;
        int n = b.Length;
        int tembDim = c.TimeEmbeddingDim;
        var temb = TimeEmbedding(l, c, timestep);

        var h = l.Conv(sample, "conv_in", c.LatentChannels, b[0], 3);
        var skips = new Stack<(string Tensor, int Channels)>();
        skips.Push((h, b[0]));
        int channels = b[0];
        for (int i = 0; i < n; i++)
        {
            bool attention = i < n - 1;
            for (int j = 0; j < c.LayersPerBlock; j++)
            {
                h = l.ResNet(h, $"down_blocks.{i}.resnets.{j}", channels, b[i], c.NormGroups, NormEps, temb, tembDim);
                channels = b[i];
                if (attention)
                {
                    h = Transformer(l, c, h, $"down_blocks.{i}.attentions.{j}", channels, c.HeadsAtLevel(i), text);
                }
                skips.Push((h, channels));
            }
            if (i < n - 1)
            {
                h = l.Conv(h, $"down_blocks.{i}.downsamplers.0.conv", channels, channels, 3, stride: 2);
                skips.Push((h, channels));
            }
        }

        h = l.ResNet(h, "mid_block.resnets.0", channels, channels, c.NormGroups, NormEps, temb, tembDim);
        h = Transformer(l, c, h, "mid_block.attentions.0", channels, c.HeadsAtLevel(n - 1), text);
        h = l.ResNet(h, "mid_block.resnets.1", channels, channels, c.NormGroups, NormEps, temb, tembDim);

        for (int i = 0; i < n; i++)
        {
            int outChannels = b[n - 1 - i];
            bool attention = i > 0;
            for (int j = 0; j <= c.LayersPerBlock; j++)
            {
                var (skip, skipChannels) = skips.Pop();
                h = g.Node("Concat", [h, skip], null, OnnxGraphBuilder.Int("axis", 1));
                h = l.ResNet(h, $"up_blocks.{i}.resnets.{j}", channels + skipChannels, outChannels, c.NormGroups, NormEps, temb, tembDim);
                channels = outChannels;
                if (attention)
                {
                    h = Transformer(l, c, h, $"up_blocks.{i}.attentions.{j}", channels, c.HeadsAtLevel(n - 1 - i), text);
                }
            }
            if (i < n - 1)
            {
                h = l.Upsample(h, $"up_blocks.{i}.upsamplers.0", channels);
            }
        }
        h = l.Silu(l.GroupNorm(h, "conv_norm_out", channels, c.NormGroups, NormEps));
        return l.Conv(h, "conv_out", channels, c.LatentChannels, 3);
    }

    // Sinusoidal embedding of t (flip_sin_to_cos: [cos, sin], frequency shift 0), then linear_1 → SiLU → linear_2.
    private static string TimeEmbedding(SdGraphLayers l, SdUnetConfig c, string timestep)
    {
        var g = l.G;
        int dim = c.BlockOutChannels[0];
        int half = dim / 2;
        var freqs = new float[half];
        for (int i = 0; i < half; i++)
        {
            freqs[i] = (float)Math.Exp(-Math.Log(10000) * i / half);
        }
        var angles = g.Node("Mul", [g.Node("Unsqueeze", [timestep, g.Constant(1)]), g.Constant(freqs, 1, half)]);
        var embedding = g.Node("Concat", [g.Node("Cos", [angles]), g.Node("Sin", [angles])], null, OnnxGraphBuilder.Int("axis", 1));
        var hidden = l.Silu(l.Linear(embedding, "time_embedding.linear_1", dim, c.TimeEmbeddingDim));
        return l.Linear(hidden, "time_embedding.linear_2", c.TimeEmbeddingDim, c.TimeEmbeddingDim);
    }

    // Transformer2DModel with one BasicTransformerBlock: GN → proj_in → [self-attn, cross-attn, GEGLU FF] → proj_out, + input.
    private static string Transformer(SdGraphLayers l, SdUnetConfig c, string x, string name, int channels, int heads, string text)
    {
        var g = l.G;
        var h = l.GroupNorm(x, name + ".norm", channels, c.NormGroups, TransformerNormEps);
        if (c.LinearProjection)
        {
            h = l.Linear(l.Flatten(h, channels), name + ".proj_in", channels, channels);
        }
        else
        {
            h = l.Flatten(l.Conv(h, name + ".proj_in", channels, channels, 1), channels);
        }
        var block = name + ".transformer_blocks.0";
        h = g.Node("Add", [h, l.Attention(l.LayerNorm(h, block + ".norm1", channels), null, block + ".attn1", channels, channels, heads, qkvBias: false)]);
        h = g.Node("Add", [h, l.Attention(l.LayerNorm(h, block + ".norm2", channels), text, block + ".attn2", channels, c.CrossAttentionDim, heads, qkvBias: false)]);
        int inner = 4 * channels;
        var projected = l.Linear(l.LayerNorm(h, block + ".norm3", channels), block + ".ff.net.0.proj", channels, 2 * inner);
        var value = g.Node("Slice", [projected, g.Constant(0), g.Constant(inner), g.Constant(-1)]);
        var gate = g.Node("Slice", [projected, g.Constant(inner), g.Constant(2 * inner), g.Constant(-1)]);
        h = g.Node("Add", [h, l.Linear(g.Node("Mul", [value, l.Gelu(gate)]), block + ".ff.net.2", inner, channels)]);
        string output;
        if (c.LinearProjection)
        {
            output = l.Unflatten(l.Linear(h, name + ".proj_out", channels, channels), x);
        }
        else
        {
            output = l.Conv(l.Unflatten(h, x), name + ".proj_out", channels, channels, 1);
        }
        return g.Node("Add", [output, x]);
    }
}
