using LatentIndigo.Imaging;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Tiled VAE encode/decode for large images: tiles of <see cref="TileSize"/> pixels overlapping by
/// <see cref="Overlap"/> pixels, blended with linear ramps across each overlap, so memory grows with the tile and not
/// with the image (apart from the result itself). Tiles at the far edges are moved inwards to stay whole, so every
/// tile has the same shape and reuses one binding.
/// </summary>
public sealed record VaeTiling
{
    /// <summary>Creates tiling options; both values in pixels, multiples of 8, 0 ≤ overlap &lt; tile size.</summary>
    public VaeTiling(int tileSize = 512, int overlap = 64)
    {
        if (tileSize < 8 || tileSize % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tileSize), tileSize, "The tile size must be a positive multiple of 8 pixels.");
        }
        if (overlap < 0 || overlap % 8 != 0 || overlap >= tileSize)
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "The overlap must be a multiple of 8 pixels, at least 0 and less than the tile size.");
        }
        TileSize = tileSize;
        Overlap = overlap;
    }

    /// <summary>Tile edge in pixels (latent tiles are a eighth of it).</summary>
    public int TileSize { get; }

    /// <summary>Overlap between neighbouring tiles in pixels.</summary>
    public int Overlap { get; }

    /// <summary>Top-left positions along one axis of length <paramref name="size"/> for a tile and overlap (same unit).</summary>
    internal static int[] Starts(int size, int tile, int overlap) => TileStarts.Along(size, tile, tile - overlap);

    /// <summary>Blend weights along one tile axis: a linear ramp over the overlap on each side that borders another tile.</summary>
    internal static float[] Ramp(int length, int overlap, bool rampStart, bool rampEnd)
    {
        var w = new float[length];
        for (int i = 0; i < length; i++)
        {
            double v = 1;
            if (rampStart && i < overlap)
            {
                v = Math.Min(v, (i + 0.5) / overlap);
            }
            if (rampEnd && length - 1 - i < overlap)
            {
                v = Math.Min(v, (length - 1 - i + 0.5) / overlap);
            }
            w[i] = (float)v;
        }
        return w;
    }
}
