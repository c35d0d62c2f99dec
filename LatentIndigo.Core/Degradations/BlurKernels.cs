using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Blur kernels as float32 tensors <c>[size,size]</c> (rows = y downwards, columns = x), odd size, normalised to sum 1.
/// The Gaussian family and the sinc kernel follow the definitions of Real-ESRGAN's degradation code.
/// </summary>
public static class BlurKernels
{
    /// <summary>
    /// Bivariate Gaussian exp(−½·[x y]Σ⁻¹[x y]ᵀ) with covariance Σ = R(θ)·diag(σx², σy²)·R(θ)ᵀ on the integer grid
    /// centred at the middle pixel.
    /// </summary>
    /// <param name="size">Odd kernel size (1 to 201).</param>
    /// <param name="sigmaX">Standard deviation along the kernel's first axis before rotation, in pixels.</param>
    /// <param name="sigmaY">Standard deviation along the second axis; ignored when <paramref name="isotropic"/>.</param>
    /// <param name="theta">Rotation in radians; ignored when <paramref name="isotropic"/>.</param>
    /// <param name="isotropic">Use σx for both axes and no rotation.</param>
    public static Tensor BivariateGaussian(int size, double sigmaX, double sigmaY, double theta, bool isotropic) =>
        KernelMath.ToTensor(KernelMath.Bivariate(KernelMath.Shape.Gaussian, size, sigmaX, sigmaY, theta, 1, isotropic, "BivariateGaussian"));

    /// <summary>
    /// Generalised Gaussian exp(−½·Q^β), Q the quadratic form of <see cref="BivariateGaussian"/>: β &lt; 1 gives heavier
    /// tails, β &gt; 1 a flatter top (Real-ESRGAN draws β in [0.5, 4]).
    /// </summary>
    /// <param name="size">Odd kernel size (1 to 201).</param>
    /// <param name="sigmaX">First-axis scale in pixels.</param>
    /// <param name="sigmaY">Second-axis scale; ignored when <paramref name="isotropic"/>.</param>
    /// <param name="theta">Rotation in radians; ignored when <paramref name="isotropic"/>.</param>
    /// <param name="beta">Shape exponent, positive.</param>
    /// <param name="isotropic">Use σx for both axes and no rotation.</param>
    public static Tensor GeneralizedGaussian(int size, double sigmaX, double sigmaY, double theta, double beta, bool isotropic) =>
        KernelMath.ToTensor(KernelMath.Bivariate(KernelMath.Shape.Generalized, size, sigmaX, sigmaY, theta, beta, isotropic, "GeneralizedGaussian"));

    /// <summary>
    /// Plateau kernel 1/(Q^β + 1), Q the quadratic form of <see cref="BivariateGaussian"/>: a flat top with polynomial
    /// tails (Real-ESRGAN draws β in [1, 2]).
    /// </summary>
    /// <param name="size">Odd kernel size (1 to 201).</param>
    /// <param name="sigmaX">First-axis scale in pixels.</param>
    /// <param name="sigmaY">Second-axis scale; ignored when <paramref name="isotropic"/>.</param>
    /// <param name="theta">Rotation in radians; ignored when <paramref name="isotropic"/>.</param>
    /// <param name="beta">Shape exponent, positive.</param>
    /// <param name="isotropic">Use σx for both axes and no rotation.</param>
    public static Tensor Plateau(int size, double sigmaX, double sigmaY, double theta, double beta, bool isotropic) =>
        KernelMath.ToTensor(KernelMath.Bivariate(KernelMath.Shape.Plateau, size, sigmaX, sigmaY, theta, beta, isotropic, "Plateau"));

    /// <summary>
    /// Circular low-pass ("sinc") kernel ω_c·J1(ω_c·r)/(2π·r): the ideal isotropic low-pass with cutoff
    /// <paramref name="cutoff"/> (radians per pixel), truncated to the kernel. Produces ringing, as real resizers and
    /// sharpeners do.
    /// </summary>
    /// <param name="size">Odd kernel size (1 to 201).</param>
    /// <param name="cutoff">Cutoff frequency in (0, π].</param>
    public static Tensor CircularLowpass(int size, double cutoff) =>
        KernelMath.ToTensor(KernelMath.CircularLowpass(size, cutoff, "CircularLowpass"));

    /// <summary>
    /// Linear motion blur: a uniform segment covering <paramref name="length"/> pixels through the centre, at
    /// <paramref name="angleDegrees"/> counter-clockwise from the x axis, drawn with bilinear (anti-aliased) weights.
    /// </summary>
    /// <param name="size">Odd kernel size (1 to 201), at least the length.</param>
    /// <param name="length">Length in pixels (≥ 1; 1 is the identity).</param>
    /// <param name="angleDegrees">Direction in degrees.</param>
    public static Tensor MotionLine(int size, double length, double angleDegrees) =>
        KernelMath.ToTensor(KernelMath.MotionLine(size, length, angleDegrees, "MotionLine"));

    /// <summary>
    /// Random camera-shake trajectory: a smooth random walk of total length <paramref name="length"/> pixels, centred
    /// and drawn with bilinear weights. Drawn from <paramref name="generator"/> (fresh random seed when null).
    /// </summary>
    /// <param name="size">Odd kernel size (3 to 201).</param>
    /// <param name="length">Path length in pixels (≥ 1); a path wider than the kernel is shrunk to fit.</param>
    /// <param name="generator">Source of randomness.</param>
    public static Tensor RandomTrajectory(int size, double length, Generator? generator = null)
    {
        using var draws = RandomDraws.From(generator);
        return KernelMath.ToTensor(Trajectory.Draw(size, length, draws).Kernel);
    }

    /// <summary>The identity kernel: 1 at the centre, 0 elsewhere.</summary>
    /// <param name="size">Odd kernel size (1 to 201).</param>
    public static Tensor Pulse(int size)
    {
        KernelMath.CheckSize(size, "Pulse");
        return KernelMath.ToTensor(KernelMath.Pulse(size));
    }
}
