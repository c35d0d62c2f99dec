using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// The lazy (polyphase) wavelet of algorithm.md §2.2: no filtering, just the four phases of a 2×2 grid. Split and
/// merge are exact inverses and are plain reshapes and selections, so autograd passes through them unchanged.
/// </summary>
internal static class LazyWavelet
{
    /// <summary>
    /// x <c>[B,C,H,W]</c> with even H, W → coarse = x[even rows, even cols] and the details
    /// d1 = x[odd rows, even cols], d2 = x[even rows, odd cols], d3 = x[odd rows, odd cols].
    /// </summary>
    public static (Tensor Coarse, Tensor[] Details) Split(Tensor x)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2] / 2, w = x.shape[3] / 2;
        // [B,C,h,rowPhase,w,colPhase]: select a row phase (dim 3), then a column phase (dim 4 after the first select).
        using var grid = x.reshape(b, c, h, 2, w, 2);
        Tensor Phase(int row, int col)
        {
            using var rows = grid.select(3, row);
            return rows.select(4, col).contiguous();
        }
        return (Phase(0, 0), [Phase(1, 0), Phase(0, 1), Phase(1, 1)]);
    }

    /// <summary>The exact inverse of <see cref="Split"/>: interleaves the four phases into a 2h×2w grid.</summary>
    public static Tensor Merge(Tensor coarse, IReadOnlyList<Tensor> details)
    {
        long b = coarse.shape[0], c = coarse.shape[1], h = coarse.shape[2], w = coarse.shape[3];
        using var scope = NewDisposeScope();
        var evenRows = stack([coarse, details[1]], dim: -1);    // [B,C,h,w,2]: even rows, columns even/odd
        var oddRows = stack([details[0], details[2]], dim: -1); // odd rows
        var grid = stack([evenRows, oddRows], dim: 3);          // [B,C,h,2,w,2]
        return grid.reshape(b, c, 2 * h, 2 * w).MoveToOuterDisposeScope();
    }
}
