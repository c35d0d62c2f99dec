using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The VAE as the pipeline uses it: images in [0, 1] to scaled latents (<c>scaling_factor</c>·mean) and back, whole
/// or tiled. Every returned tensor is new, float32, on the input's device, and owned by the caller.
/// </summary>
public sealed class Vae
{
    private readonly VaeEncoderModel encoder;
    private readonly VaeDecoderModel decoder;

    internal Vae(VaeEncoderModel encoder, VaeDecoderModel decoder, double scalingFactor)
    {
        this.encoder = encoder;
        this.decoder = decoder;
        ScalingFactor = scalingFactor;
    }

    /// <summary>A VAE over the same sessions with buffers of its own (one per concurrent restore); dispose with <see cref="DisposeBuffers"/>.</summary>
    internal Vae WithOwnBuffers() => new(encoder.WithOwnBuffers(), decoder.WithOwnBuffers(), ScalingFactor);

    /// <summary>Wall time of the encoder and decoder calls made through this VAE.</summary>
    internal TimeSpan Elapsed => encoder.Elapsed + decoder.Elapsed;

    /// <summary>Frees the buffers of this VAE's encoder and decoder.</summary>
    internal void DisposeBuffers()
    {
        encoder.DisposeBuffers();
        decoder.DisposeBuffers();
    }

    /// <summary>Latents are multiplied by this after encoding and divided by it before decoding.</summary>
    public double ScalingFactor { get; }

    /// <summary>Latent channels C.</summary>
    public int LatentChannels => decoder.LatentChannels;

    /// <summary>Pixels per latent cell along each axis (8).</summary>
    public int DownscaleFactor => VaeEncoderModel.DownscaleFactor;

    /// <summary>
    /// Encodes images [B,3,H,W] in [0, 1] (H and W multiples of 8) to scaled latents [B,C,H/8,W/8]: the encoder mean
    /// times <see cref="ScalingFactor"/>. With <paramref name="tiling"/>, images larger than a tile are encoded tile by
    /// tile and blended in latent space.
    /// </summary>
    public Tensor Encode(Tensor image, VaeTiling? tiling = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckImage(image, nameof(image));
        CheckFinite(image, nameof(image));
        using var scope = torch.NewDisposeScope();
        int h = (int)image.shape[2], w = (int)image.shape[3];
        if (tiling is null || (h <= tiling.TileSize && w <= tiling.TileSize))
        {
            var latent = encoder.EncodeUnitRange(image, cancellationToken);
            progress?.Report(1.0);
            return (latent * ScalingFactor).to(image.device).MoveToOuterDisposeScope();
        }
        var result = Tiled(image, tiling.TileSize, tiling.Overlap, 1.0 / DownscaleFactor, LatentChannels, progress, cancellationToken,
            tile => encoder.EncodeUnitRange(tile, cancellationToken));
        return result.mul_(ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Decodes scaled latents [B,C,h,w] to images [B,3,8h,8w] in [0, 1] (not clamped: guidance may need the raw
    /// values). With <paramref name="tiling"/> (in pixels), large latents are decoded tile by tile and blended in
    /// pixel space.
    /// </summary>
    public Tensor Decode(Tensor latents, VaeTiling? tiling = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckLatents(latents, LatentChannels, nameof(latents));
        CheckFinite(latents, nameof(latents));
        using var scope = torch.NewDisposeScope();
        int h = (int)latents.shape[2] * DownscaleFactor, w = (int)latents.shape[3] * DownscaleFactor;
        Tensor signed;
        if (tiling is null || (h <= tiling.TileSize && w <= tiling.TileSize))
        {
            var decoded = decoder.DecodeScaled(latents, 1.0 / ScalingFactor, cancellationToken);
            // The decoder's buffer is the model's: always hand the caller a copy.
            signed = decoded.device_type == latents.device_type && decoded.device_index == latents.device_index
                ? decoded.clone()
                : decoded.to(latents.device);
            progress?.Report(1.0);
        }
        else
        {
            signed = Tiled(latents, tiling.TileSize / DownscaleFactor, tiling.Overlap / DownscaleFactor, DownscaleFactor, 3, progress,
                cancellationToken, tile => decoder.DecodeScaled(tile, 1.0 / ScalingFactor, cancellationToken));
        }
        // [−1, 1] → [0, 1] in place.
        return signed.add_(1).mul_(0.5).MoveToOuterDisposeScope();
    }

    // Runs `run` on overlapping tiles of `input` (tile and overlap in input cells) and blends the outputs, whose
    // spatial size is `scale` times the input's, with ramps over the overlap.
    private static Tensor Tiled(Tensor input, int tile, int overlap, double scale, int outChannels, IProgress<double>? progress,
        CancellationToken cancellationToken, Func<Tensor, Tensor> run)
    {
        long b = input.shape[0];
        int h = (int)input.shape[2], w = (int)input.shape[3];
        int th = Math.Min(tile, h), tw = Math.Min(tile, w);
        var ys = VaeTiling.Starts(h, th, overlap);
        var xs = VaeTiling.Starts(w, tw, overlap);
        int oh = (int)(h * scale), ow = (int)(w * scale), oth = (int)(th * scale), otw = (int)(tw * scale), oo = (int)(overlap * scale);
        var result = torch.zeros([b, outChannels, oh, ow], ScalarType.Float32, input.device);
        var weightSum = torch.zeros([1, 1, oh, ow], ScalarType.Float32, input.device);
        int done = 0, total = ys.Length * xs.Length;
        foreach (var y in ys)
        {
            foreach (var x in xs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var tileScope = torch.NewDisposeScope();
                var inTile = input.narrow(2, y, th).narrow(3, x, tw);
                var output = run(inTile);
                var wy = torch.tensor(VaeTiling.Ramp(oth, oo, y > 0, y + th < h), device: input.device).view(1, 1, oth, 1);
                var wx = torch.tensor(VaeTiling.Ramp(otw, oo, x > 0, x + tw < w), device: input.device).view(1, 1, 1, otw);
                var weight = wy * wx;
                int oy = (int)(y * scale), ox = (int)(x * scale);
                result.narrow(2, oy, oth).narrow(3, ox, otw).add_(output.to(input.device) * weight);
                weightSum.narrow(2, oy, oth).narrow(3, ox, otw).add_(weight);
                progress?.Report(++done / (double)total);
            }
        }
        return result.div_(weightSum);
    }

    internal static void CheckImage(Tensor image, string name)
    {
        ArgumentNullException.ThrowIfNull(image, name);
        if (image.dim() != 4 || image.shape[1] != 3 || image.shape[0] < 1)
        {
            throw new ArgumentException($"Images must have shape [batch, 3, height, width]; got [{string.Join(",", image.shape)}].", name);
        }
        if (image.shape[2] % 8 != 0 || image.shape[3] % 8 != 0 || image.shape[2] == 0 || image.shape[3] == 0)
        {
            throw new ArgumentException(
                $"Image height and width must be positive multiples of 8 for the VAE; got {image.shape[2]}×{image.shape[3]}. Pad the image first.", name);
        }
        if (!image.is_floating_point())
        {
            throw new ArgumentException($"Images must be floating point in [0, 1]; got {image.dtype}.", name);
        }
    }

    internal static void CheckLatents(Tensor latents, int channels, string name)
    {
        ArgumentNullException.ThrowIfNull(latents, name);
        if (latents.dim() != 4 || latents.shape[1] != channels || latents.shape[0] < 1 || latents.shape[2] < 1 || latents.shape[3] < 1)
        {
            throw new ArgumentException($"Latents must have shape [batch, {channels}, height, width]; got [{string.Join(",", latents.shape)}].", name);
        }
        if (!latents.is_floating_point())
        {
            throw new ArgumentException($"Latents must be floating point; got {latents.dtype}.", name);
        }
    }

    private static void CheckFinite(Tensor t, string name)
    {
        using var scope = torch.NewDisposeScope();
        if (!torch.isfinite(t).all().item<bool>())
        {
            throw new ArgumentException($"{name} contains NaN or infinite values.", name);
        }
    }
}
