namespace LatentIndigo.Degradations;

/// <summary>The interpolation kernels of MATLAB's <c>imresize</c>, with their support widths.</summary>
internal enum MatlabKernel
{
    /// <summary>Keys cubic convolution with a = −0.5, support 4.</summary>
    Cubic,

    /// <summary>Triangle (bilinear), support 2.</summary>
    Triangle,

    /// <summary>Box, support 1: with antialiasing an integer downscale averages blocks ("area").</summary>
    Box,
}

/// <summary>Kernel functions exactly as MATLAB defines them (half-open box, closed triangle and cubic supports).</summary>
internal static class MatlabKernels
{
    public static double Width(MatlabKernel kernel) => kernel switch
    {
        MatlabKernel.Cubic => 4.0,
        MatlabKernel.Triangle => 2.0,
        _ => 1.0,
    };

    public static double Evaluate(MatlabKernel kernel, double x) => kernel switch
    {
        MatlabKernel.Cubic => Cubic(x),
        MatlabKernel.Triangle => Triangle(x),
        _ => Box(x),
    };

    /// <summary>Keys (1981) cubic convolution kernel with a = −0.5.</summary>
    public static double Cubic(double x)
    {
        var a = Math.Abs(x);
        var a2 = a * a;
        var a3 = a2 * a;
        if (a <= 1)
        {
            return 1.5 * a3 - 2.5 * a2 + 1;
        }
        return a <= 2 ? -0.5 * a3 + 2.5 * a2 - 4 * a + 2 : 0;
    }

    public static double Triangle(double x) => x is >= -1 and < 0 ? x + 1 : x is >= 0 and <= 1 ? 1 - x : 0;

    // MATLAB's box includes −0.5 and excludes +0.5, so every input pixel falls in exactly one output cell.
    public static double Box(double x) => x is >= -0.5 and < 0.5 ? 1 : 0;
}
