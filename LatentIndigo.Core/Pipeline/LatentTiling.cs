using LatentIndigo.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// Overlapping latent tiles with Gaussian blending, for outputs larger than the UNet comfortably handles at once
/// (the DiffBIR/CCSR scheme): windows every <c>stride</c> latent pixels plus one flush with the far edge, each tile's
/// prediction weighted by a separable Gaussian (variance 0.01 in units of the tile size) and the sum normalised.
/// </summary>
internal static class LatentTiling
{
    /// <summary>Variance of the blending Gaussian, relative to the tile size squared.</summary>
    public const double BlendVariance = 0.01;

    /// <summary>
    /// Windows covering a <paramref name="height"/>×<paramref name="width"/> latent with square tiles of
    /// <paramref name="tile"/> (shrunk to the latent where it is smaller) every <paramref name="stride"/>.
    /// </summary>
    public static IReadOnlyList<LatentTile> Windows(int height, int width, int tile, int stride)
    {
        if (height < 1 || width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(height), $"The latent must be at least 1×1; got {height}×{width}.");
        }
        if (tile < 1 || stride < 1 || stride > tile)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), $"Need 1 ≤ stride ≤ tile; got tile {tile}, stride {stride}.");
        }
        var rows = TileStarts.Along(height, Math.Min(tile, height), stride);
        var columns = TileStarts.Along(width, Math.Min(tile, width), stride);
        var tiles = new List<LatentTile>(rows.Length * columns.Length);
        foreach (int top in rows)
        {
            foreach (int left in columns)
            {
                tiles.Add(new LatentTile(top, left, Math.Min(tile, height), Math.Min(tile, width)));
            }
        }
        return tiles;
    }

    /// <summary>The separable Gaussian blending weights of a tile, <c>[height, width]</c>, peak at the centre.</summary>
    public static Tensor GaussianWeights(int height, int width, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var rows = Profile(height, dtype, device);
        var columns = Profile(width, dtype, device);
        return rows.unsqueeze(1).mul(columns.unsqueeze(0)).MoveToOuterDisposeScope();
    }

    private static Tensor Profile(int length, ScalarType dtype, Device? device)
    {
        double mid = (length - 1) / 2.0;
        var values = new double[length];
        for (int i = 0; i < length; i++)
        {
            double d = (i - mid) / length;
            values[i] = Math.Exp(-d * d / (2 * BlendVariance)) / Math.Sqrt(2 * Math.PI * BlendVariance);
        }
        return torch.tensor(values, dtype: dtype, device: device);
    }
}
