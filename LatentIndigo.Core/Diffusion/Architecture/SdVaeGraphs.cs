using LatentIndigo.Onnx;

namespace LatentIndigo.Diffusion.Architecture;

/// <summary>
/// Builds AutoencoderKL-style encoder and decoder graphs (Stable Diffusion's VAE, written from the published
/// architecture) on float32 tensors. Parameter names follow diffusers' state dict.
/// </summary>
internal static class SdVaeGraphs
{
    private const float Eps = 1e-6f;

    /// <summary>Image [B, 3, H, W] in [−1, 1] → moments [B, 2C, H/f, W/f] (mean, then log-variance), after quant_conv.</summary>
    public static string Encoder(SdGraphLayers l, SdVaeConfig c, string image)
    {
        var b = c.BlockOutChannels;
        int n = b.Length;
        var h = l.Conv(image, "encoder.conv_in", 3, b[0], 3);
        int channels = b[0];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < c.LayersPerBlock; j++)
            {
                h = l.ResNet(h, $"encoder.down_blocks.{i}.resnets.{j}", channels, b[i], c.NormGroups, Eps, null, 0);
                channels = b[i];
            }
            if (i < n - 1)
            {
                // Stride-2 convolution padded by one on the bottom and right only, as diffusers' Downsample2D in the VAE.
                h = l.Conv(h, $"encoder.down_blocks.{i}.downsamplers.0.conv", channels, channels, 3, stride: 2, pads: [0, 0, 1, 1]);
            }
        }
        h = Mid(l, c, h, "encoder.mid_block", channels);
        h = l.Silu(l.GroupNorm(h, "encoder.conv_norm_out", channels, c.NormGroups, Eps));
        h = l.Conv(h, "encoder.conv_out", channels, 2 * c.LatentChannels, 3);
        return l.Conv(h, "quant_conv", 2 * c.LatentChannels, 2 * c.LatentChannels, 1);
    }

    /// <summary>Latents [B, C, h, w] (unscaled) → image [B, 3, f·h, f·w] in about [−1, 1].</summary>
    public static string Decoder(SdGraphLayers l, SdVaeConfig c, string latents)
    {
        var b = c.BlockOutChannels;
        int n = b.Length;
        var h = l.Conv(latents, "post_quant_conv", c.LatentChannels, c.LatentChannels, 1);
        int channels = b[n - 1];
        h = l.Conv(h, "decoder.conv_in", c.LatentChannels, channels, 3);
        h = Mid(l, c, h, "decoder.mid_block", channels);
        for (int i = 0; i < n; i++)
        {
            int outChannels = b[n - 1 - i];
            for (int j = 0; j <= c.LayersPerBlock; j++)
            {
                h = l.ResNet(h, $"decoder.up_blocks.{i}.resnets.{j}", channels, outChannels, c.NormGroups, Eps, null, 0);
                channels = outChannels;
            }
            if (i < n - 1)
            {
                h = l.Upsample(h, $"decoder.up_blocks.{i}.upsamplers.0", channels);
            }
        }
        h = l.Silu(l.GroupNorm(h, "decoder.conv_norm_out", channels, c.NormGroups, Eps));
        return l.Conv(h, "decoder.conv_out", channels, 3, 3);
    }

    // ResNet → single-head self-attention over all positions (GN first, residual; unless the config drops it) → ResNet.
    private static string Mid(SdGraphLayers l, SdVaeConfig c, string x, string name, int channels)
    {
        var h = l.ResNet(x, name + ".resnets.0", channels, channels, c.NormGroups, Eps, null, 0);
        if (!c.MidBlockAttention)
        {
            return l.ResNet(h, name + ".resnets.1", channels, channels, c.NormGroups, Eps, null, 0);
        }
        var normed = l.Flatten(l.GroupNorm(h, name + ".attentions.0.group_norm", channels, c.NormGroups, Eps), channels);
        var attended = l.Attention(normed, null, name + ".attentions.0", channels, channels, 1, qkvBias: true);
        h = l.G.Node("Add", [l.Unflatten(attended, h), h]);
        return l.ResNet(h, name + ".resnets.1", channels, channels, c.NormGroups, Eps, null, 0);
    }
}
