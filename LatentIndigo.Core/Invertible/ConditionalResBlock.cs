using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// INDIGO+'s conditional residual block (algorithm.md §2.4): h + conv2(relu(conv1(h))) · s(γ), where
/// s = Linear(64→width)(relu(Linear(cond→64)(γ))) scales each channel. Field names give the official keys
/// <c>conv1</c>, <c>conv2</c>, <c>fc.0</c>, <c>fc.2</c>.
/// </summary>
internal sealed class ConditionalResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Hidden size of the condition MLP (fixed by the INDIGO+ architecture).</summary>
    public const int ConditionHidden = 64;

    // Field names are the state-dict key names; do not rename.
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Sequential fc;

    public ConditionalResBlock(int width, int conditionSize) : base(nameof(ConditionalResBlock))
    {
        conv1 = nn.Conv2d(width, width, 3, padding: 1, bias: true);
        conv2 = nn.Conv2d(width, width, 3, padding: 1, bias: true);
        fc = nn.Sequential(nn.Linear(conditionSize, ConditionHidden), nn.ReLU(), nn.Linear(ConditionHidden, width));
        RegisterComponents();
    }

    /// <param name="h">Features <c>[B,width,H,W]</c>.</param>
    /// <param name="condition">γ <c>[B,cond]</c>.</param>
    public override Tensor forward(Tensor h, Tensor condition)
    {
        using var scope = NewDisposeScope();
        var scale = fc.forward(condition);
        var r = InnConvolution.Apply(nn.functional.relu(InnConvolution.Apply(h, conv1)), conv2);
        var result = h + r * scale.view(scale.shape[0], scale.shape[1], 1, 1);
        return result.MoveToOuterDisposeScope();
    }
}
