using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// One of several degradations, drawn uniformly per image (spec: the alternatives joined by <c>|</c>, which binds
/// looser than <c>&gt;</c>, e.g. <c>bicubic:x4|realesrgan:x4|bicubic:x4&gt;jpeg:q=30</c>). Training an INN on a mixture
/// gives it inputs whose degradations differ from image to image; that is what a per-image degradation embedding
/// γ = F(y) can learn to tell apart. Every alternative must have the same scale factor.
/// </summary>
public sealed class MixtureDegradation : DegradationModel
{
    private readonly IDegradationModel[] alternatives;

    /// <summary>Creates the mixture.</summary>
    /// <param name="alternatives">Two or more degradations with the same scale factor.</param>
    public MixtureDegradation(IEnumerable<IDegradationModel> alternatives)
    {
        ArgumentNullException.ThrowIfNull(alternatives);
        this.alternatives = alternatives.ToArray();
        if (this.alternatives.Length < 2 || this.alternatives.Any(a => a is null))
        {
            throw new DegradationException("A mixture needs at least two alternatives and no null ones.");
        }
        ScaleFactor = this.alternatives[0].ScaleFactor;
        var mismatch = this.alternatives.FirstOrDefault(a => a.ScaleFactor != ScaleFactor);
        if (mismatch is not null)
        {
            throw new DegradationException(
                $"Every alternative of a mixture must downscale by the same factor: '{this.alternatives[0].Spec}' by " +
                $"{ScaleFactor}, '{mismatch.Spec}' by {mismatch.ScaleFactor}.");
        }
    }

    /// <summary>The alternatives, in spec order.</summary>
    public IReadOnlyList<IDegradationModel> Alternatives => alternatives;

    /// <inheritdoc />
    public override int ScaleFactor { get; }

    /// <inheritdoc />
    public override string Spec => string.Join("|", alternatives.Select(a => a.Spec));

    /// <summary>The largest requirement of any alternative (any of them may be drawn).</summary>
    public override int MinimumSide => alternatives.Max(a => a is DegradationModel m ? m.MinimumSide : a.ScaleFactor);

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        using var draws = RandomDraws.From(generator);
        var outputs = new Tensor[batch.shape[0]];
        for (var i = 0; i < outputs.Length; i++)
        {
            // The choice comes from the same generator as the alternative's own draws, so a seed fixes both.
            var k = (int)Math.Min(alternatives.Length - 1, Math.Floor(draws.Uniform(0, alternatives.Length)));
            var one = trace is null ? null : new DegradationTrace(1);
            outputs[i] = DegradationTrace.ApplyTraced(alternatives[k], batch.narrow(0, i, 1), draws.Generator, one);
            trace?.Add(i, new DegradationStep("mix", new Dictionary<string, object> { ["choice"] = k, ["spec"] = alternatives[k].Spec }));
            foreach (var step in one?.StepsOf(0) ?? [])
            {
                trace!.Add(i, step);
            }
        }
        return torch.cat(outputs, 0);
    }
}
