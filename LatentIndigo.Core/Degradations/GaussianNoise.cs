using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Additive Gaussian noise with standard deviation σ in 0–255 units (spec <c>noise:sigma=5</c>, or
/// <c>noise:sigma=5,gray=true</c> for the same noise in every channel); the result is clamped to [0,1].
/// </summary>
public sealed class GaussianNoise : DegradationModel
{
    /// <summary>Largest σ accepted (0–255 units).</summary>
    public const double MaxSigma = 255;

    /// <summary>Creates the noise.</summary>
    /// <param name="sigma">Standard deviation in 0–255 units (0 to 255).</param>
    /// <param name="gray">One noise field shared by all channels (luminance noise) instead of one per channel.</param>
    public GaussianNoise(double sigma, bool gray = false)
    {
        if (!double.IsFinite(sigma) || sigma < 0 || sigma > MaxSigma)
        {
            throw new DegradationException($"Gaussian noise sigma must be between 0 and {MaxSigma} (0–255 units); got {sigma}.");
        }
        Sigma = sigma;
        Gray = gray;
    }

    /// <summary>Standard deviation in 0–255 units.</summary>
    public double Sigma { get; }

    /// <summary>Whether the noise is shared by all channels.</summary>
    public bool Gray { get; }

    /// <inheritdoc />
    public override int ScaleFactor => 1;

    /// <inheritdoc />
    public override string Spec => $"noise:sigma={SpecText.Number(Sigma)}" + (Gray ? ",gray=true" : "");

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        trace?.AddToAll(new DegradationStep("noise", new Dictionary<string, object> { ["sigma"] = Sigma, ["gray"] = Gray }));
        using var draws = RandomDraws.From(generator);
        return Add(batch, Sigma, Gray, draws);
    }

    /// <summary>x + σ/255·n, clamped to [0,1]; n is drawn for the whole batch at once.</summary>
    internal static Tensor Add(Tensor batch, double sigma, bool gray, RandomDraws draws)
    {
        long n = batch.shape[0], c = batch.shape[1], h = batch.shape[2], w = batch.shape[3];
        var noise = draws.Normal([n, gray ? 1 : c, h, w], batch.device).mul_(sigma / 255.0);
        return batch.add(noise).clamp_(0, 1);
    }
}
