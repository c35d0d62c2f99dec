using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Degradations applied one after the other (spec: the stages joined by <c>&gt;</c>, e.g.
/// <c>gauss:sigma=2&gt;bicubic:x4&gt;noise:sigma=5&gt;jpeg:q=40</c>). The scale factor is the product of the stages'.
/// </summary>
public sealed class SequentialDegradation : DegradationModel
{
    private readonly IDegradationModel[] stages;

    /// <summary>Creates the pipeline.</summary>
    /// <param name="stages">One or more degradations, applied in order.</param>
    public SequentialDegradation(IEnumerable<IDegradationModel> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        this.stages = stages.ToArray();
        if (this.stages.Length == 0 || this.stages.Any(s => s is null))
        {
            throw new DegradationException("A sequential degradation needs at least one stage and no null stages.");
        }
        long factor = 1;
        foreach (var stage in this.stages)
        {
            if (stage.ScaleFactor < 1)
            {
                throw new DegradationException($"Stage '{stage.Spec}' reports scale factor {stage.ScaleFactor}; it must be at least 1.");
            }
            factor *= stage.ScaleFactor;
            if (factor > 1024)
            {
                throw new DegradationException("The stages downscale by more than 1024 in total; that leaves nothing of the image.");
            }
        }
        ScaleFactor = (int)factor;
    }

    /// <summary>The stages, in order.</summary>
    public IReadOnlyList<IDegradationModel> Stages => stages;

    /// <inheritdoc />
    public override int ScaleFactor { get; }

    /// <inheritdoc />
    public override string Spec => string.Join(">", stages.Select(s => s.Spec));

    /// <summary>The largest requirement of any stage, expressed at the input's resolution.</summary>
    public override int MinimumSide
    {
        get
        {
            long factor = 1, side = 1;
            foreach (var stage in stages)
            {
                var min = stage is DegradationModel m ? m.MinimumSide : stage.ScaleFactor;
                side = Math.Max(side, min * factor);
                factor *= stage.ScaleFactor;
            }
            return (int)Math.Min(int.MaxValue, side);
        }
    }

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        var x = batch;
        foreach (var stage in stages)
        {
            x = DegradationTrace.ApplyTraced(stage, x, generator, trace);
        }
        return x;
    }
}
