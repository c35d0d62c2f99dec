namespace LatentIndigo.Imaging;

/// <summary>
/// Where overlapping windows start along one axis: every <c>stride</c> from 0, and a last window moved back so that it
/// ends exactly at the edge (never past it, never a partial window). Shared by the VAE's tiles (stride = tile − overlap)
/// and the latent tiles of the sampling loop, so both cover an axis the same way.
/// </summary>
internal static class TileStarts
{
    /// <summary>Starts of windows of <paramref name="tile"/> cells along <paramref name="length"/>; [0] when one window covers it.</summary>
    public static int[] Along(int length, int tile, int stride)
    {
        if (tile < 1 || stride < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), $"Need tile ≥ 1 and stride ≥ 1; got tile {tile}, stride {stride}.");
        }
        if (length <= tile)
        {
            return [0];
        }
        var starts = new List<int>();
        for (int s = 0; s + tile < length; s += stride)
        {
            starts.Add(s);
        }
        // Every listed window ends before the edge, so the one flush with the edge is always new.
        starts.Add(length - tile);
        return starts.ToArray();
    }
}
