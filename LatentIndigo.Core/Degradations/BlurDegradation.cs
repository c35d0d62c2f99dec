using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Blur with a fixed kernel: every channel of every image is filtered with reflect padding (see
/// <see cref="BlurKernels"/> for the kernels). Create one with the static factories or <see cref="FromKernel"/>.
/// </summary>
public sealed class BlurDegradation : DegradationModel
{
    private readonly double[] kernel;
    private readonly int size;
    private readonly string name;
    private readonly IReadOnlyDictionary<string, object> parameters;

    private BlurDegradation(double[] kernel, string name, IReadOnlyList<(string Key, object Value)> parameters)
    {
        this.kernel = kernel;
        size = (int)Math.Round(Math.Sqrt(kernel.Length));
        this.name = name;
        this.parameters = parameters.ToDictionary(p => p.Key, p => p.Value);
        Spec = name + ":" + string.Join(",", parameters.Select(p => p.Key + "=" + Format(p.Value)));
    }

    /// <inheritdoc />
    public override int ScaleFactor => 1;

    /// <inheritdoc />
    public override string Spec { get; }

    /// <summary>Reflect padding needs images larger than half the kernel.</summary>
    public override int MinimumSide => size / 2 + 1;

    /// <summary>Kernel size (odd).</summary>
    public int KernelSize => size;

    /// <summary>A copy of the kernel as a float32 tensor [size,size].</summary>
    public Tensor Kernel() => KernelMath.ToTensor((double[])kernel.Clone());

    /// <summary>The default kernel size for a Gaussian-like kernel of spread σ: 2·⌈3σ⌉+1, at least 3.</summary>
    public static int DefaultSize(double sigma) => Math.Clamp(2 * (int)Math.Ceiling(3 * sigma) + 1, 3, KernelMath.MaxSize);

    /// <summary>Isotropic Gaussian blur (spec <c>gauss:sigma=σ,size=k</c>).</summary>
    /// <param name="sigma">Standard deviation in pixels.</param>
    /// <param name="size">Odd kernel size; default 2·⌈3σ⌉+1.</param>
    public static BlurDegradation Gaussian(double sigma, int? size = null)
    {
        var k = size ?? DefaultSize(sigma);
        return new BlurDegradation(KernelMath.Bivariate(KernelMath.Shape.Gaussian, k, sigma, sigma, 0, 1, true, "gauss"),
            "gauss", [("sigma", sigma), ("size", k)]);
    }

    /// <summary>Anisotropic Gaussian blur (spec <c>gauss:sigmax=..,sigmay=..,theta=..,size=..</c>).</summary>
    /// <param name="sigmaX">Standard deviation along the first axis before rotation, in pixels.</param>
    /// <param name="sigmaY">Standard deviation along the second axis, in pixels.</param>
    /// <param name="theta">Rotation in radians.</param>
    /// <param name="size">Odd kernel size; default 2·⌈3·max(σx,σy)⌉+1.</param>
    public static BlurDegradation AnisotropicGaussian(double sigmaX, double sigmaY, double theta, int? size = null)
    {
        var k = size ?? DefaultSize(Math.Max(sigmaX, sigmaY));
        return new BlurDegradation(KernelMath.Bivariate(KernelMath.Shape.Gaussian, k, sigmaX, sigmaY, theta, 1, false, "gauss"),
            "gauss", [("sigmax", sigmaX), ("sigmay", sigmaY), ("theta", theta), ("size", k)]);
    }

    /// <summary>Generalised Gaussian blur (spec <c>gengauss:sigmax=..,sigmay=..,theta=..,beta=..,size=..</c>).</summary>
    /// <param name="sigmaX">First-axis scale in pixels.</param>
    /// <param name="sigmaY">Second-axis scale in pixels.</param>
    /// <param name="theta">Rotation in radians.</param>
    /// <param name="beta">Shape exponent.</param>
    /// <param name="size">Odd kernel size; default 2·⌈3·max(σx,σy)⌉+1.</param>
    public static BlurDegradation GeneralizedGaussian(double sigmaX, double sigmaY, double theta, double beta, int? size = null)
    {
        var k = size ?? DefaultSize(Math.Max(sigmaX, sigmaY));
        return new BlurDegradation(KernelMath.Bivariate(KernelMath.Shape.Generalized, k, sigmaX, sigmaY, theta, beta, false, "gengauss"),
            "gengauss", [("sigmax", sigmaX), ("sigmay", sigmaY), ("theta", theta), ("beta", beta), ("size", k)]);
    }

    /// <summary>Plateau blur (spec <c>plateau:sigmax=..,sigmay=..,theta=..,beta=..,size=..</c>).</summary>
    /// <param name="sigmaX">First-axis scale in pixels.</param>
    /// <param name="sigmaY">Second-axis scale in pixels.</param>
    /// <param name="theta">Rotation in radians.</param>
    /// <param name="beta">Shape exponent.</param>
    /// <param name="size">Odd kernel size; default 2·⌈3·max(σx,σy)⌉+1.</param>
    public static BlurDegradation Plateau(double sigmaX, double sigmaY, double theta, double beta, int? size = null)
    {
        var k = size ?? DefaultSize(Math.Max(sigmaX, sigmaY));
        return new BlurDegradation(KernelMath.Bivariate(KernelMath.Shape.Plateau, k, sigmaX, sigmaY, theta, beta, false, "plateau"),
            "plateau", [("sigmax", sigmaX), ("sigmay", sigmaY), ("theta", theta), ("beta", beta), ("size", k)]);
    }

    /// <summary>Linear motion blur (spec <c>motion:length=L,angle=deg,size=k</c>).</summary>
    /// <param name="length">Length in pixels.</param>
    /// <param name="angleDegrees">Direction, degrees counter-clockwise from the x axis.</param>
    /// <param name="size">Odd kernel size; default the smallest odd size ≥ length.</param>
    public static BlurDegradation Motion(double length, double angleDegrees, int? size = null)
    {
        var k = size ?? KernelMath.OddAtLeast(length);
        return new BlurDegradation(KernelMath.MotionLine(k, length, angleDegrees, "motion"),
            "motion", [("length", length), ("angle", angleDegrees), ("size", k)]);
    }

    /// <summary>Circular low-pass (sinc) blur (spec <c>sinc:cutoff=ω,size=k</c>).</summary>
    /// <param name="cutoff">Cutoff in radians per pixel, (0, π].</param>
    /// <param name="size">Odd kernel size; default 21 as in Real-ESRGAN.</param>
    public static BlurDegradation Sinc(double cutoff, int size = 21) =>
        new(KernelMath.CircularLowpass(size, cutoff, "sinc"), "sinc", [("cutoff", cutoff), ("size", size)]);

    /// <summary>
    /// A user kernel, applied as given (not renormalised) (spec <c>kernel:values=v0;v1;...</c>, row-major).
    /// </summary>
    /// <param name="kernel">Square kernel [k,k] with odd k, any floating dtype, finite values.</param>
    public static BlurDegradation FromKernel(Tensor kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.dim() != 2 || kernel.shape[0] != kernel.shape[1] || kernel.shape[0] % 2 == 0)
        {
            throw new DegradationException(
                $"A user blur kernel must be square with an odd size, [k,k]; got shape [{string.Join(",", kernel.shape)}].");
        }
        using var cpu = kernel.to(ScalarType.Float64, torch.CPU).contiguous();
        return FromValues(cpu.data<double>().ToArray());
    }

    /// <summary>A user kernel from row-major values; the count must be an odd square (9, 25, 49, ...).</summary>
    /// <param name="values">Row-major kernel values, finite.</param>
    public static BlurDegradation FromValues(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var k = (int)Math.Round(Math.Sqrt(values.Count));
        if (k * k != values.Count || k % 2 == 0 || k > KernelMath.MaxSize)
        {
            throw new DegradationException(
                $"A user blur kernel needs an odd square number of values (1, 9, 25, 49, ... up to {KernelMath.MaxSize}²); got {values.Count}.");
        }
        if (values.Any(v => !double.IsFinite(v)))
        {
            throw new DegradationException("A user blur kernel must have finite values.");
        }
        var copy = values.ToArray();
        return new BlurDegradation(copy, "kernel", [("values", copy)]);
    }

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        trace?.AddToAll(new DegradationStep(name, parameters));
        return KernelConvolution.Filter(batch, kernel, Spec);
    }

    private static string Format(object value) => value switch
    {
        double d => SpecText.Number(d),
        double[] values => string.Join(";", values.Select(SpecText.Number)),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
