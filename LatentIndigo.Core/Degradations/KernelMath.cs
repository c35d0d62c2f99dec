using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Blur kernels as row-major float64 arrays <c>[size·size]</c> (row = y, column = x), normalised to sum 1. Definitions
/// follow Real-ESRGAN's degradation code, so kernels drawn with its ranges match its training data.
/// </summary>
internal static class KernelMath
{
    public const int MaxSize = 201;

    public enum Shape
    {
        Gaussian,
        Generalized,
        Plateau,
    }

    public static void CheckSize(int size, string what)
    {
        if (size < 1 || size > MaxSize || size % 2 == 0)
        {
            throw new DegradationException($"{what}: the kernel size must be odd and between 1 and {MaxSize}; got {size}.");
        }
    }

    public static void CheckPositive(double value, string name, string what)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new DegradationException($"{what}: {name} must be a positive finite number; got {value}.");
        }
    }

    /// <summary>
    /// Kernels of the quadratic form Q = [x y] Σ⁻¹ [x y]ᵀ with Σ = R·diag(σx², σy²)·Rᵀ, R the rotation by θ:
    /// Gaussian exp(−Q/2), generalised Gaussian exp(−Q^β/2), plateau 1/(Q^β + 1).
    /// </summary>
    public static double[] Bivariate(Shape shape, int size, double sigmaX, double sigmaY, double theta, double beta, bool isotropic, string what)
    {
        CheckSize(size, what);
        CheckPositive(sigmaX, "sigmaX", what);
        if (isotropic)
        {
            sigmaY = sigmaX;
            theta = 0;
        }
        CheckPositive(sigmaY, "sigmaY", what);
        if (!double.IsFinite(theta))
        {
            throw new DegradationException($"{what}: theta must be finite (radians); got {theta}.");
        }
        if (shape != Shape.Gaussian)
        {
            CheckPositive(beta, "beta", what);
        }
        double c = Math.Cos(theta), s = Math.Sin(theta);
        double sx2 = sigmaX * sigmaX, sy2 = sigmaY * sigmaY;
        // Σ = [[a, b], [b, d]]
        var a = c * c * sx2 + s * s * sy2;
        var b = c * s * (sx2 - sy2);
        var d = s * s * sx2 + c * c * sy2;
        var det = a * d - b * b;
        double ia = d / det, ib = -b / det, id = a / det;
        var r = size / 2;
        var k = new double[size * size];
        for (var row = 0; row < size; row++)
        {
            double y = row - r;
            for (var col = 0; col < size; col++)
            {
                double x = col - r;
                var q = ia * x * x + 2 * ib * x * y + id * y * y;
                k[row * size + col] = shape switch
                {
                    Shape.Gaussian => Math.Exp(-0.5 * q),
                    Shape.Generalized => Math.Exp(-0.5 * Math.Pow(q, beta)),
                    _ => 1 / (Math.Pow(q, beta) + 1),
                };
            }
        }
        return Normalize(k, what);
    }

    /// <summary>
    /// Circular low-pass ("sinc") kernel: the ideal 2-D low-pass with cutoff ω_c (radians per pixel),
    /// ω_c·J1(ω_c·r)/(2π·r), with its limit ω_c²/(4π) at the centre.
    /// </summary>
    public static double[] CircularLowpass(int size, double cutoff, string what)
    {
        CheckSize(size, what);
        if (!double.IsFinite(cutoff) || cutoff <= 0 || cutoff > Math.PI)
        {
            throw new DegradationException($"{what}: the cutoff must be in (0, π] radians per pixel; got {cutoff}.");
        }
        var center = (size - 1) / 2.0;
        var k = new double[size * size];
        for (var row = 0; row < size; row++)
        {
            for (var col = 0; col < size; col++)
            {
                var dist = Math.Sqrt((row - center) * (row - center) + (col - center) * (col - center));
                k[row * size + col] = dist == 0
                    ? cutoff * cutoff / (4 * Math.PI)
                    : cutoff * Bessel.J1(cutoff * dist) / (2 * Math.PI * dist);
            }
        }
        return Normalize(k, what);
    }

    /// <summary>Identity kernel: a single 1 at the centre.</summary>
    public static double[] Pulse(int size)
    {
        var k = new double[size * size];
        k[size / 2 * size + size / 2] = 1;
        return k;
    }

    /// <summary>Zero-pads a centred odd kernel to a larger odd size.</summary>
    public static double[] PadTo(double[] kernel, int size, int target)
    {
        if (target <= size)
        {
            return kernel;
        }
        var offset = (target - size) / 2;
        var padded = new double[target * target];
        for (var row = 0; row < size; row++)
        {
            Array.Copy(kernel, row * size, padded, (row + offset) * target + offset, size);
        }
        return padded;
    }

    /// <summary>
    /// Linear motion blur: a segment of the given length through the centre at <paramref name="angleDegrees"/>
    /// (counter-clockwise from the x axis, y pointing up), drawn with bilinear splatting of dense samples.
    /// </summary>
    public static double[] MotionLine(int size, double length, double angleDegrees, string what)
    {
        CheckSize(size, what);
        CheckPositive(length, "length", what);
        if (!double.IsFinite(angleDegrees))
        {
            throw new DegradationException($"{what}: the angle must be finite (degrees); got {angleDegrees}.");
        }
        if (length > size)
        {
            throw new DegradationException($"{what}: a line of length {length} does not fit a {size}x{size} kernel; use size ≥ {OddAtLeast(length)}.");
        }
        var rad = angleDegrees * Math.PI / 180;
        double dx = Math.Cos(rad), dy = -Math.Sin(rad); // rows grow downwards
        // Sample the open segment (−L/2, L/2) at the centres of L·8 equal pieces: the mass is uniform along it.
        var samples = Math.Max(1, (int)Math.Ceiling(length * 8));
        var points = new (double X, double Y)[samples];
        for (var i = 0; i < samples; i++)
        {
            var t = ((i + 0.5) / samples - 0.5) * (length - 1);
            points[i] = (t * dx, t * dy);
        }
        return Splat(points, size, what);
    }

    /// <summary>Smallest odd integer ≥ <paramref name="value"/> (at least 3).</summary>
    public static int OddAtLeast(double value)
    {
        var n = Math.Max(3, (int)Math.Ceiling(value - 1e-9));
        return n % 2 == 0 ? n + 1 : n;
    }

    /// <summary>Accumulates points (offsets from the kernel centre, in pixels) with bilinear weights.</summary>
    public static double[] Splat(IReadOnlyList<(double X, double Y)> points, int size, string what)
    {
        var k = new double[size * size];
        var r = size / 2;
        foreach (var (px, py) in points)
        {
            double x = px + r, y = py + r;
            int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
            double fx = x - x0, fy = y - y0;
            Add(k, size, x0, y0, (1 - fx) * (1 - fy));
            Add(k, size, x0 + 1, y0, fx * (1 - fy));
            Add(k, size, x0, y0 + 1, (1 - fx) * fy);
            Add(k, size, x0 + 1, y0 + 1, fx * fy);
        }
        return Normalize(k, what);
    }

    private static void Add(double[] k, int size, int x, int y, double w)
    {
        if (w != 0 && x >= 0 && y >= 0 && x < size && y < size)
        {
            k[y * size + x] += w;
        }
    }

    public static double[] Normalize(double[] k, string what)
    {
        var sum = k.Sum();
        if (!double.IsFinite(sum) || Math.Abs(sum) < 1e-300)
        {
            throw new DegradationException($"{what}: the kernel sums to {sum} and cannot be normalised; check its parameters.");
        }
        for (var i = 0; i < k.Length; i++)
        {
            k[i] /= sum;
        }
        return k;
    }

    /// <summary>Square float32 tensor [size,size] from a row-major kernel.</summary>
    public static Tensor ToTensor(double[] kernel)
    {
        var size = (int)Math.Round(Math.Sqrt(kernel.Length));
        return torch.tensor(kernel.Select(v => (float)v).ToArray(), [size, size], ScalarType.Float32);
    }
}
