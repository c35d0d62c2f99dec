using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Camera-shake blur: a new random trajectory kernel per image (see <see cref="BlurKernels.RandomTrajectory"/>),
/// spec <c>trajectory:length=L,size=k</c>. The drawn path is recorded in the trace.
/// </summary>
public sealed class RandomMotionBlur : DegradationModel
{
    /// <summary>Creates the blur.</summary>
    /// <param name="length">Path length in pixels (≥ 1).</param>
    /// <param name="size">Odd kernel size; default the smallest odd size ≥ length.</param>
    public RandomMotionBlur(double length, int? size = null)
    {
        KernelMath.CheckPositive(length, "length", "trajectory");
        Length = length;
        KernelSize = size ?? KernelMath.OddAtLeast(length);
        KernelMath.CheckSize(KernelSize, "trajectory");
    }

    /// <summary>Path length in pixels.</summary>
    public double Length { get; }

    /// <summary>Kernel size (odd).</summary>
    public int KernelSize { get; }

    /// <inheritdoc />
    public override int ScaleFactor => 1;

    /// <inheritdoc />
    public override string Spec => $"trajectory:length={SpecText.Number(Length)},size={KernelSize}";

    /// <inheritdoc />
    public override int MinimumSide => KernelSize / 2 + 1;

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        using var draws = RandomDraws.From(generator);
        var images = new List<Tensor>();
        for (var i = 0; i < batch.shape[0]; i++)
        {
            var drawn = Trajectory.Draw(KernelSize, Length, draws);
            trace?.Add(i, new DegradationStep("trajectory", new Dictionary<string, object>
            {
                ["length"] = Length,
                ["size"] = KernelSize,
                ["startAngle"] = drawn.StartAngle,
                ["pathX"] = drawn.PathX,
                ["pathY"] = drawn.PathY,
            }));
            images.Add(KernelConvolution.Filter(batch.narrow(0, i, 1), drawn.Kernel, Spec));
        }
        return torch.cat(images, 0);
    }
}
