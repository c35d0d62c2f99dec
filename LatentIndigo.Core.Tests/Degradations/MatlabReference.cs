namespace LatentIndigo.Tests.Degradations;

/// <summary>
/// An independent float64 re-derivation of MATLAB imresize for the tests: for every output pixel it sums the kernel
/// over every input position within reach (no window arithmetic), and handles edges by reflecting the 1-based index
/// about the edge pixels until it lands inside (no modular arithmetic).
/// </summary>
internal static class MatlabReference
{
    public static double Cubic(double x)
    {
        x = Math.Abs(x);
        if (x <= 1)
        {
            return (1.5 * x - 2.5) * x * x + 1;
        }
        if (x <= 2)
        {
            return ((-0.5 * x + 2.5) * x - 4) * x + 2;
        }
        return 0;
    }

    public static double Triangle(double x) => Math.Max(0, 1 - Math.Abs(x));

    public static double Box(double x) => x >= -0.5 && x < 0.5 ? 1 : 0;

    /// <summary>Reflects a 1-based index into 1..n with the edge pixel repeated (..., 2, 1 | 1, 2, ..., n | n, n-1, ...).</summary>
    public static int Reflect(int j, int n)
    {
        while (j < 1 || j > n)
        {
            j = j < 1 ? 1 - j : 2 * n + 1 - j;
        }
        return j;
    }

    /// <summary>Resizes a 1-D signal; <paramref name="kernel"/> of support ±<paramref name="halfWidth"/>.</summary>
    public static double[] Resize1D(double[] x, int outLength, double scale, Func<double, double> kernel, double halfWidth, bool antialias = true)
    {
        var n = x.Length;
        var stretch = antialias && scale < 1;
        var reach = (stretch ? halfWidth / scale : halfWidth) + 2;
        var y = new double[outLength];
        for (var i = 1; i <= outLength; i++)
        {
            // Output pixel centre i, in input pixel units (both grids' pixel 0.5-edges aligned).
            var u = (i - 0.5) / scale + 0.5;
            double num = 0, den = 0;
            for (var j = (int)Math.Floor(u - reach); j <= (int)Math.Ceiling(u + reach); j++)
            {
                var w = stretch ? scale * kernel(scale * (u - j)) : kernel(u - j);
                num += w * x[Reflect(j, n) - 1];
                den += w;
            }
            y[i - 1] = num / den;
        }
        return y;
    }

    /// <summary>Separable 2-D resize of one channel [h,w] (rows first, then columns).</summary>
    public static double[,] Resize2D(double[,] img, int outH, int outW, double scaleH, double scaleW, Func<double, double> kernel, double halfWidth)
    {
        int h = img.GetLength(0), w = img.GetLength(1);
        var tmp = new double[outH, w];
        for (var c = 0; c < w; c++)
        {
            var col = new double[h];
            for (var r = 0; r < h; r++)
            {
                col[r] = img[r, c];
            }
            var res = Resize1D(col, outH, scaleH, kernel, halfWidth);
            for (var r = 0; r < outH; r++)
            {
                tmp[r, c] = res[r];
            }
        }
        var result = new double[outH, outW];
        for (var r = 0; r < outH; r++)
        {
            var row = new double[w];
            for (var c = 0; c < w; c++)
            {
                row[c] = tmp[r, c];
            }
            var res = Resize1D(row, outW, scaleW, kernel, halfWidth);
            for (var c = 0; c < outW; c++)
            {
                result[r, c] = res[c];
            }
        }
        return result;
    }
}
