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
/// by its mask, Sign(relu(a)) ∈ {0, 1}, which is 0 at a = 0 as in PyTorch; a residual block h + s·conv2(relu(conv1 h))
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
    public string ConvTranspose(string x, string weight)
    {
        if (!flipped.TryGetValue(weight, out var w))
        {
            var swapped = g.Node("Transpose", [weight], null, OnnxGraphBuilder.Ints("perm", 1, 0, 2, 3));
            w = g.Node("Slice", [swapped, g.Constant(-1, -1), g.Constant(long.MinValue, long.MinValue), g.Constant(2, 3), g.Constant(-1, -1)]);
            flipped[weight] = w;
        }
        return Conv(x, w);
    }

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
        var prefix = Net(e.Step, e.Net);
        var outWeight = e.Net == 'p' ? PredictorOutputWeight(e.Step) : Weight(prefix + "convout.weight");
        var gh = ConvTranspose(cotangent, outWeight);
        for (int k = options.ResBlocks - 1; k >= 0; k--)
        {
            var block = $"{prefix}blocks.{k}.";
            var branch = SharedCondition
                ? ConvTranspose(gh, ScaledConv2(block).Weight)
                : ConvTranspose(Mul(gh, Scale(block)), Weight(block + "conv2.weight"));
            var masked = Mul(branch, g.Node("Sign", [e.ReluOutputs[k]]));
            gh = Add(gh, ConvTranspose(masked, Weight(block + "conv1.weight")));
        }
        return ConvTranspose(gh, Weight(prefix + "convin.weight"));
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
