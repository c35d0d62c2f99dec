using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// One additive predict-then-update lifting step (algorithm.md §2.3). The predictor P sees the coarse band and emits
/// 3C channels; detail k adds channels [k, k+C) — overlapping slices, an INDIGO+/RWNN quirk kept for weight
/// compatibility. The updater U sees the three updated details and adds C channels to the coarse band.
/// Additive coupling makes the step exactly invertible whatever P and U compute.
/// </summary>
internal sealed class LiftingStep : nn.Module
{
    // Field names are the state-dict key names; do not rename.
    private readonly ConditionalResNet p;
    private readonly ConditionalResNet u;
    private readonly int channels;

    public LiftingStep(int channels, int width, int resBlocks, int conditionSize) : base(nameof(LiftingStep))
    {
        this.channels = channels;
        p = new ConditionalResNet(channels, 3 * channels, width, resBlocks, conditionSize);
        u = new ConditionalResNet(3 * channels, channels, width, resBlocks, conditionSize);
        RegisterComponents();
    }

    public ConditionalResNet Predictor => p;

    public ConditionalResNet Updater => u;

    /// <summary>(c, d) → (c', d'); returns new tensors, inputs untouched.</summary>
    public (Tensor Coarse, Tensor[] Details) Forward(Tensor coarse, IReadOnlyList<Tensor> details, Tensor condition)
    {
        using var scope = NewDisposeScope();
        var prediction = p.forward(coarse, condition);
        var updated = new Tensor[3];
        for (int k = 0; k < 3; k++)
        {
            updated[k] = details[k] + prediction.narrow(1, k, channels);
        }
        var newCoarse = coarse + u.forward(cat(updated, 1), condition);
        foreach (var d in updated)
        {
            d.MoveToOuterDisposeScope();
        }
        return (newCoarse.MoveToOuterDisposeScope(), updated);
    }

    /// <summary>The exact inverse of <see cref="Forward"/>.</summary>
    public (Tensor Coarse, Tensor[] Details) Inverse(Tensor coarse, IReadOnlyList<Tensor> details, Tensor condition)
    {
        using var scope = NewDisposeScope();
        var oldCoarse = coarse - u.forward(cat(details.ToArray(), 1), condition);
        var prediction = p.forward(oldCoarse, condition);
        var old = new Tensor[3];
        for (int k = 0; k < 3; k++)
        {
            old[k] = (details[k] - prediction.narrow(1, k, channels)).MoveToOuterDisposeScope();
        }
        return (oldCoarse.MoveToOuterDisposeScope(), old);
    }
}
