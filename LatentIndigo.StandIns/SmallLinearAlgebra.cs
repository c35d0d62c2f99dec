namespace LatentIndigo.StandIns;

/// <summary>Pseudo-inverse of a small full-rank matrix through the normal equations (enough for the stand-in VAE).</summary>
internal static class SmallLinearAlgebra
{
    public static double[,] PseudoInverse(double[,] a)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        var at = Transpose(a);
        // Tall (m ≥ n): (AᵀA)⁻¹Aᵀ; wide: Aᵀ(AAᵀ)⁻¹.
        return m >= n ? Multiply(Inverse(Multiply(at, a)), at) : Multiply(at, Inverse(Multiply(a, at)));
    }

    private static double[,] Transpose(double[,] a)
    {
        var t = new double[a.GetLength(1), a.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++)
        {
            for (int j = 0; j < a.GetLength(1); j++)
            {
                t[j, i] = a[i, j];
            }
        }
        return t;
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        int m = a.GetLength(0), k = a.GetLength(1), n = b.GetLength(1);
        var r = new double[m, n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += a[i, p] * b[p, j];
                }
                r[i, j] = s;
            }
        }
        return r;
    }

    // Gauss–Jordan elimination with partial pivoting.
    private static double[,] Inverse(double[,] a)
    {
        int n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                m[i, j] = a[i, j];
            }
            m[i, n + i] = 1;
        }
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
            {
                if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col]))
                {
                    pivot = r;
                }
            }
            if (Math.Abs(m[pivot, col]) < 1e-12)
            {
                throw new InvalidOperationException("Matrix is singular.");
            }
            for (int j = 0; j < 2 * n; j++)
            {
                (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            }
            double d = m[col, col];
            for (int j = 0; j < 2 * n; j++)
            {
                m[col, j] /= d;
            }
            for (int r = 0; r < n; r++)
            {
                if (r != col && m[r, col] != 0)
                {
                    double f = m[r, col];
                    for (int j = 0; j < 2 * n; j++)
                    {
                        m[r, j] -= f * m[col, j];
                    }
                }
            }
        }
        var inv = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                inv[i, j] = m[i, n + j];
            }
        }
        return inv;
    }
}
