namespace LatentIndigo.Degradations;

/// <summary>Bessel function of the first kind, order 1, needed by the circular low-pass (sinc) kernel.</summary>
internal static class Bessel
{
    /// <summary>
    /// J1(x) from Bessel's integral J1(x) = (1/π)∫₀^π cos(τ − x·sin τ) dτ. The integrand is smooth and periodic, so the
    /// trapezoidal rule converges geometrically once the number of nodes exceeds about |x|/2; we take many more.
    /// </summary>
    public static double J1(double x)
    {
        var n = 64 + 2 * (int)Math.Ceiling(Math.Abs(x));
        var h = Math.PI / n;
        // End points τ = 0 and τ = π contribute cos(0) = 1 and cos(π) = −1 with weight ½ each: they cancel.
        var sum = 0.0;
        for (var k = 1; k < n; k++)
        {
            var tau = k * h;
            sum += Math.Cos(tau - x * Math.Sin(tau));
        }
        return sum * h / Math.PI;
    }
}
