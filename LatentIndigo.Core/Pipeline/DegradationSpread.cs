using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// The noise level of a known degradation, for the back-projection's discrepancy stop (Invertible.InnBackProjection):
/// the degradation is applied twice to the same image with two seeds, and σ = RMS(d₁ − d₂)/√2 is the standard
/// deviation of what it adds at random (noise, and the spread of random blurs, resizes and JPEG qualities). A
/// deterministic degradation (bicubic:x4, jpeg:q=30>bicubic:x4) gives exactly 0; noise of σ added after the last
/// resize gives σ (before it, σ reduced by the resize); realesrgan:x4 gives its whole random spread.
/// </summary>
internal static class DegradationSpread
{
    /// <summary>σ of <paramref name="degradation"/> on <paramref name="image"/> <c>[1,3,H,W]</c> (any device), in [0,1] units.</summary>
    public static double Measure(IDegradationModel degradation, Tensor image, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cpu = image.cpu().clamp(0f, 1f);
        // Two draws that differ from the restoration's own seed and from each other.
        var first = degradation.Apply(cpu, new Generator(unchecked((ulong)seed * 2 + 1)));
        var second = degradation.Apply(cpu, new Generator(unchecked((ulong)seed * 2 + 2)));
        double meanSquare = (first - second).pow(2).mean().to(ScalarType.Float64).item<double>();
        return Math.Sqrt(meanSquare / 2);
    }
}
