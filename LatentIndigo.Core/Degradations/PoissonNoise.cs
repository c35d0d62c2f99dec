using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Poisson (shot) noise as Real-ESRGAN defines it (spec <c>poisson:scale=1</c>, optionally <c>gray=true</c>): the image
/// is quantised to 8 bits, each pixel is drawn from Poisson(v·x)/v with v the number of distinct values rounded up to a
/// power of two, and the difference, times <see cref="Scale"/>, is added to the image; the result is clamped to [0,1].
/// </summary>
public sealed class PoissonNoise : DegradationModel
{
    /// <summary>Largest scale accepted.</summary>
    public const double MaxScale = 10;

    /// <summary>Creates the noise.</summary>
    /// <param name="scale">Noise multiplier, 0 to 10 (Real-ESRGAN draws it in [0.05, 3]).</param>
    /// <param name="gray">Noise computed on the luminance and shared by all channels.</param>
    public PoissonNoise(double scale, bool gray = false)
    {
        if (!double.IsFinite(scale) || scale < 0 || scale > MaxScale)
        {
            throw new DegradationException($"Poisson noise scale must be between 0 and {MaxScale}; got {scale}.");
        }
        Scale = scale;
        Gray = gray;
    }

    /// <summary>Noise multiplier.</summary>
    public double Scale { get; }

    /// <summary>Whether the noise is computed on the luminance and shared by all channels.</summary>
    public bool Gray { get; }

    /// <inheritdoc />
    public override int ScaleFactor => 1;

    /// <inheritdoc />
    public override string Spec => $"poisson:scale={SpecText.Number(Scale)}" + (Gray ? ",gray=true" : "");

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        trace?.AddToAll(new DegradationStep("poisson", new Dictionary<string, object> { ["scale"] = Scale, ["gray"] = Gray }));
        using var draws = RandomDraws.From(generator);
        return Add(batch, Scale, Gray, draws);
    }

    internal static Tensor Add(Tensor batch, double scale, bool gray, RandomDraws draws)
    {
        var n = batch.shape[0];
        var source = batch;
        if (gray)
        {
            if (batch.shape[1] != 3)
            {
                throw new DegradationException($"Gray Poisson noise needs RGB images (3 channels); got {batch.shape[1]}.");
            }
            // ITU-R BT.601 luma, the weights torchvision's rgb_to_grayscale uses.
            source = (0.2989 * batch.narrow(1, 0, 1)) + (0.587 * batch.narrow(1, 1, 1)) + (0.114 * batch.narrow(1, 2, 1));
        }
        var quantised = source.mul(255).round_().clamp_(0, 255).div_(255);
        var levels = new float[n];
        for (var i = 0; i < n; i++)
        {
            var distinct = quantised[i].unique().output.shape[0];
            levels[i] = (float)Math.Pow(2, Math.Ceiling(Math.Log2(distinct)));
        }
        var v = torch.tensor(levels).to(batch.device).view(n, 1, 1, 1);
        var noise = draws.Poisson(quantised.mul(v)).div_(v).sub_(quantised);
        return batch.add(noise.mul_(scale)).clamp_(0, 1);
    }
}
