using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// Where the tiles of one axis start and how each tile's output is weighted so that overlapping tiles blend without
/// seams. Neighbours share <c>overlap</c> input pixels; inside that band a tile's weight is 0 over the quarter nearest
/// its edge, rises linearly over the middle half and is 1 beyond, so the two weights of a shared band sum to 1 and
/// pixels within a quarter band of a tile edge (where the network saw the tile's zero padding, not the image) never count.
/// </summary>
internal static class UpscaleTiling
{
    /// <summary>Tile starts covering [0, length) with tiles of <paramref name="tile"/> sharing at least <paramref name="overlap"/>.</summary>
    public static List<int> Starts(int length, int tile, int overlap)
    {
        if (tile >= length)
        {
            return [0];
        }
        int step = Math.Max(1, tile - overlap);
        var starts = new List<int>();
        for (int s = 0; s + tile < length; s += step)
        {
            starts.Add(s);
        }
        starts.Add(length - tile); // the last tile ends at the border (it may share more than the overlap)
        return starts;
    }

    /// <summary>
    /// The output weights [tile·scale] of a tile starting at <paramref name="start"/>: ramps only at edges inside the
    /// image (an image border is seen alike tiled or not).
    /// </summary>
    public static float[] Weights(int start, int tile, int length, int overlap, int scale)
    {
        var weights = new float[tile * scale];
        double band = overlap * (double)scale;
        for (int i = 0; i < weights.Length; i++)
        {
            double centre = i + 0.5, w = 1;
            if (band > 0 && start > 0)
            {
                w = Math.Min(w, Ramp(centre, band));
            }
            if (band > 0 && start + tile < length)
            {
                w = Math.Min(w, Ramp(weights.Length - centre, band));
            }
            weights[i] = (float)w;
        }
        return weights;
    }

    private static double Ramp(double distance, double band) => Math.Clamp((distance - band / 4) / (band / 2), 0, 1);

    /// <summary>The weight map [1, th·s, tw·s] of a tile (outer product of the two axes' weights).</summary>
    public static Tensor WeightMap(float[] rows, float[] columns, Device device) =>
        torch.tensor(rows, device: device).unsqueeze(1).mul(torch.tensor(columns, device: device).unsqueeze(0)).unsqueeze(0);
}
