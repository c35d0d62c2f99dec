using LatentIndigo.Onnx;
using Onnx;

namespace LatentIndigo.Invertible;

/// <summary>
/// Emits the pieces of a <see cref="LiftingInn"/> as ONNX nodes: the predict/update ResNets (forward with the values their
/// vector-Jacobian product needs, and that product), the lazy polyphase split/merge, and the per-block condition scales.
/// The weights are graph inputs named by their state-dict keys (<c>lifts.{i}.{p,u}.net.…</c>) so that a session binds
/// them to the live parameter tensors.
/// </summary>
/// <remarks>
/// The gradient rules written out here (derivation: docs/onnx-inn.md):
/// a 3×3 pad-1 convolution's input VJP is its transposed convolution, i.e. a convolution with the weight's in/out axes
/// swapped and the kernel flipped (see <see cref="ConvTranspose"/>); a ReLU's VJP multiplies
/// by its mask, 1 where relu(a) &gt; 0 and 0 elsewhere (0 at a = 0 as in PyTorch; see <see cref="MaskedByRelu"/>); a residual block h + s·conv2(relu(conv1 h))
/// passes the cotangent straight through and scales its branch by s before conv2's transpose.
/// </remarks>
internal sealed class InnGraphWriter
{
    private readonly OnnxGraphBuilder g;
    private readonly LiftingInnOptions options;
    private readonly Dictionary<string, long[]> weightShapes;
    private readonly Dictionary<string, string> scales = [];
    private readonly Dictionary<int, string> predictorOutputWeights = [];

    public InnGraphWriter(OnnxGraphBuilder builder, LiftingInnOptions options, IReadOnlyDictionary<string, long[]> weightShapes)
    {
        g = builder;
        this.options = options;
        this.weightShapes = new Dictionary<string, long[]>(weightShapes);
    }

    public OnnxGraphBuilder Builder => g;

    public LiftingInnOptions Options => options;

    private int indexCounter;

    /// <summary>A rank-0 int64 constant (a Gather index that drops the axis).</summary>
    public string Index(long value) => g.Int64s($"index_{indexCounter++}", [value]);

    /// <summary>The name of the condition input γ <c>[B, conditionSize]</c>.</summary>
    public string Condition { get; set; } = "condition";

    /// <summary>
    /// True when the condition input is one row [1, cond] shared by the whole batch (null γ, or one γ for all tiles, as in
    /// the pipeline): each block's scale s(γ) is then one vector, folded into conv2's weight and bias
    /// (s·conv2(m) = conv(m, s⊙W2, s⊙b2)), which saves an elementwise pass per block in every pass and its VJP.
    /// </summary>
    public bool SharedCondition { get; set; }

    private readonly Dictionary<string, (string Weight, string Bias)> scaledConv2 = [];

    /// <summary>conv2's weight and bias with the block's (shared) scale folded in.</summary>
    private (string Weight, string Bias) ScaledConv2(string block)
    {
        if (!scaledConv2.TryGetValue(block, out var wb))
        {
            var scale = Scale(block); // [1, width, 1, 1]
            var perOutput = g.Node("Reshape", [scale, g.Constant(-1, 1, 1, 1)]);
            var perBias = g.Node("Reshape", [scale, g.Constant(-1)]);
            wb = (Mul(Weight(block + "conv2.weight"), perOutput), Mul(Weight(block + "conv2.bias"), perBias));
            scaledConv2[block] = wb;
        }
        return wb;
    }

    /// <summary>Declares every weight the graph reads as a float input.</summary>
    public void DeclareWeights()
    {
        foreach (var (name, shape) in weightShapes)
        {
            g.Input(name, TensorProto.Types.DataType.Float, shape.Cast<object>().ToArray());
        }
    }

    private static string Net(int step, char net) => $"lifts.{step}.{net}.net.";

    private string Weight(string name) =>
        weightShapes.ContainsKey(name) ? name : throw new InvalidOperationException($"The INN has no parameter '{name}'.");

    public string Conv(string x, string weight, string? bias = null) =>
        g.Node("Conv", bias is null ? [x, weight] : [x, weight, bias], null, OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));

    /// <summary>
    /// The input VJP of a 3×3 pad-1 convolution: the transposed convolution with the same weight, written as a plain
    /// convolution with the weight's in/out axes swapped and its kernel flipped in both spatial axes (exactly the same
    /// sums). ONNX Runtime's CPU forward convolution is faster than its ConvTranspose (im2col + GEMM against GEMM +
    /// col2im): the pixel 512² guidance graph ran 1.1–1.2× faster this way (OrtWeightProbe, 2026-11-27). The flipped
    /// weight is computed once per run from the bound weight, so in-place weight updates still reach it.
    /// </summary>
    public string ConvTranspose(string x, string weight) => Conv(x, Flipped(weight));

    /// <summary>The weight of the transposed convolution: in/out axes swapped, kernel flipped in both spatial axes.</summary>
    private string Flipped(string weight)
    {
        if (!flipped.TryGetValue(weight, out var w))
        {
            var swapped = g.Node("Transpose", [weight], null, OnnxGraphBuilder.Ints("perm", 1, 0, 2, 3));
            w = g.Node("Slice", [swapped, g.Constant(-1, -1), g.Constant(long.MinValue, long.MinValue), g.Constant(2, 3), g.Constant(-1, -1)]);
            flipped[weight] = w;
        }
        return w;
    }

    /// <summary>
    /// True: the ResNets run on ONNX Runtime's blocked-layout CPU convolutions (<see cref="NchwcLayout"/>), with their
    /// activations kept blocked from the first convolution to the last and the weights reordered in the graph from the
    /// bound inputs. Needs <see cref="SharedCondition"/> (a per-image scale would need the blocked channel order) and
    /// plans for every convolution shape (<see cref="NchwcLayout.Supports"/>): the generator checks both.
    /// </summary>
    public bool Blocked { get; set; }

    private readonly Dictionary<(string Tensor, NchwcConvPlan Plan, bool Bias), string> reordered = [];
    private readonly Dictionary<(NchwcConvPlan Plan, bool Bias), string> reorderIndices = [];
    private string? zero;

    /// <summary>A weight or bias in the order <paramref name="plan"/> gives, zero-padded: one Gather from the bound tensor.</summary>
    private string Reordered(string tensor, NchwcConvPlan plan, bool bias)
    {
        if (reordered.TryGetValue((tensor, plan, bias), out var r))
        {
            return r;
        }
        var indices = bias ? plan.BiasIndices! : plan.WeightIndices;
        if (!reorderIndices.TryGetValue((plan, bias), out var indexName))
        {
            indexName = g.Int64s($"nchwc_indices_{reorderIndices.Count}", indices, indices.Length);
            reorderIndices[(plan, bias)] = indexName;
        }
        zero ??= g.Constant([0f], 1);
        // The index one past the last element picks the appended zero (the padding of a channel count to the block size).
        var padded = g.Node("Concat", [g.Node("Reshape", [tensor, g.Constant(-1)]), zero], null, OnnxGraphBuilder.Int("axis", 0));
        var gathered = g.Node("Gather", [padded, indexName], null, OnnxGraphBuilder.Int("axis", 0));
        r = bias ? gathered : g.Node("Reshape", [gathered, g.Constant(plan.WeightDims)]);
        reordered[(tensor, plan, bias)] = r;
        return r;
    }

    private static NchwcConvPlan PlanOf(long outputs, long inputs, bool bias) =>
        NchwcLayout.Plan(outputs, inputs, bias) ?? throw new InvalidOperationException(
            $"No blocked-layout plan for a {inputs} → {outputs} convolution; the generator should have chosen plain convolutions.");

    /// <summary>
    /// A blocked convolution of <paramref name="x"/> (blocked or NCHW, as <paramref name="plan"/> reads it), with an
    /// optional fused ReLU, and <paramref name="sum"/> (a blocked residual) added inside the kernel when given.
    /// </summary>
    private string BlockedConv(string x, string weight, string? bias, NchwcConvPlan plan, bool relu = false, string? sum = null)
    {
        var inputs = new List<string> { x, Reordered(weight, plan, false) };
        if (bias is not null || sum is not null)
        {
            // Optional inputs are positional: an empty name skips the bias.
            inputs.Add(bias is null ? "" : Reordered(bias, plan, true));
        }
        if (sum is not null)
        {
            inputs.Add(sum);
        }
        var pads = OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1);
        return relu
            ? g.Node("Conv", [.. inputs], null, NchwcLayout.Domain, pads, OnnxGraphBuilder.Str("activation", "Relu"))
            : g.Node("Conv", [.. inputs], null, NchwcLayout.Domain, pads);
    }

    /// <summary>An NCHW tensor into the first convolution of a ResNet: reordered when the plan reads blocked input.</summary>
    private string Enter(string x, NchwcConvPlan plan) =>
        plan.ReorderInput ? g.Node("ReorderInput", [x], null, NchwcLayout.Domain, OnnxGraphBuilder.Int("channels_last", 0)) : x;

    /// <summary>A blocked tensor back to NCHW with <paramref name="channels"/> channels (dropping the padding).</summary>
    private string Leave(string x, long channels) =>
        g.Node("ReorderOutput", [x], null, NchwcLayout.Domain, OnnxGraphBuilder.Int("channels", channels), OnnxGraphBuilder.Int("channels_last", 0));

    private readonly Dictionary<string, string> flipped = [];

    public string Add(string a, string b) => g.Node("Add", [a, b]);

    public string Sub(string a, string b) => g.Node("Sub", [a, b]);

    public string Mul(string a, string b) => g.Node("Mul", [a, b]);

    public string Scalar(float value) => g.Constant([value]);

    /// <summary>
    /// The per-channel scale s(γ) = fc.2(relu(fc.0(γ))) of a residual block as <c>[B, width, 1, 1]</c>; it depends on γ
    /// only, so each block's scale is computed once per graph and shared by every pass that evaluates the block.
    /// </summary>
    private string Scale(string prefix)
    {
        if (scales.TryGetValue(prefix, out var s))
        {
            return s;
        }
        var transB = OnnxGraphBuilder.Int("transB", 1);
        var hidden = g.Node("Relu", [g.Node("Gemm", [Condition, Weight(prefix + "fc.0.weight"), Weight(prefix + "fc.0.bias")], null, transB)]);
        var scale = g.Node("Gemm", [hidden, Weight(prefix + "fc.2.weight"), Weight(prefix + "fc.2.bias")], null, transB);
        s = g.Node("Unsqueeze", [scale, g.Constant(2, 3)]);
        scales[prefix] = s;
        return s;
    }

    /// <summary>
    /// The weight of the predictor's output convolution with the band reorder folded in: detail k adds prediction channels
    /// [k, k+C) (overlapping slices, see <see cref="LiftingStep"/>), so the three slices of the weight along its output axis,
    /// stacked, give all three detail updates in one 3C-channel convolution (and one ConvTranspose for its VJP).
    /// </summary>
    private string PredictorOutputWeight(int step)
    {
        if (predictorOutputWeights.TryGetValue(step, out var w))
        {
            return w;
        }
        var full = Weight(Net(step, 'p') + "convout.weight");
        long c = options.Channels;
        var axis0 = g.Constant(0L);
        var parts = new string[3];
        for (int k = 0; k < 3; k++)
        {
            parts[k] = g.Node("Slice", [full, g.Constant((long)k), g.Constant(k + c), axis0]);
        }
        w = g.Node("Concat", parts, null, OnnxGraphBuilder.Int("axis", 0));
        predictorOutputWeights[step] = w;
        return w;
    }

    /// <summary>What the VJP of one ResNet evaluation needs: the ReLU outputs and scales of its blocks.</summary>
    public sealed record NetEvaluation(int Step, char Net, string[] ReluOutputs);

    /// <summary>
    /// Evaluates the predictor (<paramref name="net"/> = 'p', output = the three detail updates as 3C channels) or the
    /// updater ('u', input = the three details as 3C channels) of lifting step <paramref name="step"/>.
    /// </summary>
    public (string Output, NetEvaluation Evaluation) ResNet(int step, char net, string x)
    {
        if (Blocked)
        {
            return BlockedResNet(step, net, x);
        }
        var prefix = Net(step, net);
        var h = Conv(x, Weight(prefix + "convin.weight"));
        var relus = new string[options.ResBlocks];
        for (int k = 0; k < options.ResBlocks; k++)
        {
            var block = $"{prefix}blocks.{k}.";
            relus[k] = g.Node("Relu", [Conv(h, Weight(block + "conv1.weight"), Weight(block + "conv1.bias"))]);
            if (SharedCondition)
            {
                var (w2, b2) = ScaledConv2(block);
                h = Add(h, Conv(relus[k], w2, b2));
            }
            else
            {
                var branch = Conv(relus[k], Weight(block + "conv2.weight"), Weight(block + "conv2.bias"));
                h = Add(h, Mul(branch, Scale(block)));
            }
        }
        var outWeight = net == 'p' ? PredictorOutputWeight(step) : Weight(prefix + "convout.weight");
        return (Conv(h, outWeight), new NetEvaluation(step, net, relus));
    }

    /// <summary>The vector-Jacobian product of one ResNet evaluation: the cotangent of its input from that of its output.</summary>
    public string ResNetVjp(NetEvaluation e, string cotangent)
    {
        if (Blocked)
        {
            return BlockedResNetVjp(e, cotangent);
        }
        var prefix = Net(e.Step, e.Net);
        var outWeight = e.Net == 'p' ? PredictorOutputWeight(e.Step) : Weight(prefix + "convout.weight");
        var gh = ConvTranspose(cotangent, outWeight);
        for (int k = options.ResBlocks - 1; k >= 0; k--)
        {
            var block = $"{prefix}blocks.{k}.";
            var branch = SharedCondition
                ? ConvTranspose(gh, ScaledConv2(block).Weight)
                : ConvTranspose(Mul(gh, Scale(block)), Weight(block + "conv2.weight"));
            var masked = MaskedByRelu(branch, e.ReluOutputs[k]);
            gh = Add(gh, ConvTranspose(masked, Weight(block + "conv1.weight")));
        }
        return ConvTranspose(gh, Weight(prefix + "convin.weight"));
    }

    /// <summary>
    /// A ReLU's VJP: the cotangent where the ReLU's output r is &gt; 0, else 0 (0 at r = 0, as in PyTorch), written as
    /// Where(r &gt; 0, cotangent, 0). ONNX Runtime's CPU Sign is not vectorised: Mul by Sign(r) took 11 % of the pixel
    /// 512² guidance graph, Mul by Ceil(Min(r, 1)) 14 % of the blocked one, Where about 9 % (ConvRooflineProbe's
    /// per-operator profile, 2026-11-27).
    /// </summary>
        private string MaskedByRelu(string cotangent, string reluOutput) =>
        g.Node("Where", [g.Node("Greater", [reluOutput, Scalar(0f)]), cotangent, Scalar(0f)]);

    /// <summary>Channels of a ResNet's input and output: the predictor maps C to 3C, the updater 3C to C.</summary>
    private (long In, long Out) Outer(char net) =>
        net == 'p' ? (options.Channels, 3L * options.Channels) : (3L * options.Channels, options.Channels);

    /// <summary><see cref="ResNet"/> on blocked convolutions (same sums; conv2 always carries the folded scale).</summary>
    private (string Output, NetEvaluation Evaluation) BlockedResNet(int step, char net, string x)
    {
        var prefix = Net(step, net);
        long width = options.Width;
        var (cin, cout) = Outer(net);
        var into = PlanOf(width, cin, false);
        var h = BlockedConv(Enter(x, into), Weight(prefix + "convin.weight"), null, into);
        var relus = new string[options.ResBlocks];
        var withBias = PlanOf(width, width, true);
        for (int k = 0; k < options.ResBlocks; k++)
        {
            var block = $"{prefix}blocks.{k}.";
            relus[k] = BlockedConv(h, Weight(block + "conv1.weight"), Weight(block + "conv1.bias"), withBias, relu: true);
            var (w2, b2) = ScaledConv2(block);
            h = BlockedConv(relus[k], w2, b2, withBias, sum: h); // h + conv2(relu), the add inside the kernel
        }
        var outWeight = net == 'p' ? PredictorOutputWeight(step) : Weight(prefix + "convout.weight");
        return (Leave(BlockedConv(h, outWeight, null, PlanOf(cout, width, false)), cout), new NetEvaluation(step, net, relus));
    }

    /// <summary><see cref="ResNetVjp"/> on blocked convolutions; the ReLU outputs it masks with are blocked too.</summary>
    private string BlockedResNetVjp(NetEvaluation e, string cotangent)
    {
        var prefix = Net(e.Step, e.Net);
        long width = options.Width;
        var (cin, cout) = Outer(e.Net);
        var outWeight = e.Net == 'p' ? PredictorOutputWeight(e.Step) : Weight(prefix + "convout.weight");
        var into = PlanOf(width, cout, false);
        var gh = BlockedConv(Enter(cotangent, into), Flipped(outWeight), null, into);
        var inner = PlanOf(width, width, false);
        for (int k = options.ResBlocks - 1; k >= 0; k--)
        {
            var block = $"{prefix}blocks.{k}.";
            var branch = BlockedConv(gh, Flipped(ScaledConv2(block).Weight), null, inner);
            var masked = MaskedByRelu(branch, e.ReluOutputs[k]);
            gh = BlockedConv(masked, Flipped(Weight(block + "conv1.weight")), null, inner, sum: gh);
        }
        return Leave(BlockedConv(gh, Flipped(Weight(prefix + "convin.weight")), null, PlanOf(cin, width, false)), cin);
    }

    /// <summary>
    /// The lazy split of <c>[B,C,2h,2w]</c>: the coarse phase (even rows, even columns) and the details as one 3C-channel
    /// tensor in INDIGO+ order (odd rows/even columns, even rows/odd columns, odd rows/odd columns).
    /// </summary>
    public (string Coarse, string Details) Split(string x, long height, long width)
    {
        var axes = g.Constant(2, 3);
        var steps = g.Constant(2, 2);
        var ends = g.Constant(height, width);
        string Phase(long row, long col) => g.Node("Slice", [x, g.Constant(row, col), ends, axes, steps]);
        var details = g.Node("Concat", [Phase(1, 0), Phase(0, 1), Phase(1, 1)], null, OnnxGraphBuilder.Int("axis", 1));
        return (Phase(0, 0), details);
    }

    /// <summary>
    /// The exact inverse of <see cref="Split"/>: DepthToSpace (DCR) reads channel block (row phase · 2 + column phase),
    /// so the bands go in as coarse, d2, d1, d3.
    /// </summary>
    public string Merge(string coarse, string details)
    {
        long c = options.Channels;
        var axis1 = g.Constant(1L);
        string Band(long k) => g.Node("Slice", [details, g.Constant(k * c), g.Constant((k + 1) * c), axis1]);
        var stacked = g.Node("Concat", [coarse, Band(1), Band(0), Band(2)], null, OnnxGraphBuilder.Int("axis", 1));
        return g.Node("DepthToSpace", [stacked], null, OnnxGraphBuilder.Int("blocksize", 2), OnnxGraphBuilder.Str("mode", "DCR"));
    }
}
