using LatentIndigo.Onnx;
using Onnx;

namespace LatentIndigo.Invertible;

/// <summary>Which pass of a <see cref="LiftingInn"/> a generated ONNX graph computes.</summary>
internal enum InnGraphKind
{
    /// <summary>x, γ → coarse, details_0..J-1 (coarsest first, each [B,3C,h,w]).</summary>
    Forward,

    /// <summary>coarse, details_0..J-1, γ → x.</summary>
    Inverse,

    /// <summary>
    /// x, observation y, γ, loss_weights [w0, w1] → gradient ∂L/∂x, coarse_distance Σ‖y − coarse‖ and consistency
    /// ‖g⁻¹(y, details) − x‖² (both summed over the batch), the loss of <see cref="Guidance.InnGuidanceStep"/>.
    /// </summary>
    Guidance,
}

/// <summary>
/// Generates the ONNX graphs of a <see cref="LiftingInn"/>'s passes for one static input shape, from its options and
/// parameter shapes (not their values: weights are graph inputs). The guidance graph writes the gradient out
/// analytically (no autograd in ONNX Runtime): the lifting steps are additive, so their vector-Jacobian products are the
/// same sub-networks' VJPs chained in reverse; the polyphase split and merge are permutations whose VJPs are each other.
/// </summary>
internal static class InnGraphGenerator
{
    /// <summary>The epsilon of <see cref="Guidance.InnGuidanceStep"/> inside √(‖y − c‖² + ε).</summary>
    public const float NormEpsilon = 1e-12f;

    public const string X = "x";
    public const string Observation = "observation";
    public const string Coarse = "coarse";
    public const string Condition = "condition";
    public const string LossWeights = "loss_weights";
    public const string Gradient = "gradient";
    public const string CoarseDistance = "coarse_distance";
    public const string Consistency = "consistency";

    public static string Details(int level) => $"details_{level}";

    /// <summary>
    /// The serialized model for <paramref name="kind"/> at batch <paramref name="batch"/> and image size height × width.
    /// With <paramref name="sharedCondition"/> the condition input is one row [1, cond] for the whole batch (see
    /// <see cref="InnGraphWriter.SharedCondition"/>), else [batch, cond]. With <paramref name="blocked"/> (CPU sessions only)
    /// the ResNets use ONNX Runtime's blocked-layout convolutions where this CPU and condition allow
    /// (<see cref="InnGraphWriter.Blocked"/>).
    /// </summary>
    public static byte[] Generate(InnGraphKind kind, LiftingInnOptions options, IReadOnlyDictionary<string, long[]> weightShapes,
        long batch, long height, long width, bool sharedCondition = false, bool blocked = false)
    {
        int s = options.ScaleFactor;
        if (height % s != 0 || width % s != 0)
        {
            throw new ArgumentException($"The image size {height}×{width} is not divisible by 2^J = {s}.");
        }
        var g = new OnnxGraphBuilder($"lifting_inn_{kind.ToString().ToLowerInvariant()}");
        var w = new InnGraphWriter(g, options, weightShapes)
        {
            SharedCondition = sharedCondition,
            // Blocked convolutions fold the condition's scale into conv2, so they need one γ for the whole batch.
            Blocked = blocked && sharedCondition && NchwcLayout.Supports(options.Width, [options.Channels, 3L * options.Channels]),
        };
        w.DeclareWeights();
        g.Input(Condition, TensorProto.Types.DataType.Float, sharedCondition ? 1L : batch, (long)options.ConditionSize);
        var f = TensorProto.Types.DataType.Float;
        long c = options.Channels;
        switch (kind)
        {
            case InnGraphKind.Forward:
            {
                var (coarse, details) = EmitForward(w, g.Input(X, f, batch, c, height, width), height, width, null);
                g.Node("Identity", [coarse], Coarse);
                g.Output(Coarse, f, batch, c, height / s, width / s);
                for (int l = 0; l < options.Levels; l++)
                {
                    g.Node("Identity", [details[l]], Details(l));
                    long size = s >> l;
                    g.Output(Details(l), f, batch, 3 * c, height / size, width / size);
                }
                break;
            }
            case InnGraphKind.Inverse:
            {
                var coarse = g.Input(Coarse, f, batch, c, height / s, width / s);
                var details = new string[options.Levels];
                for (int l = 0; l < options.Levels; l++)
                {
                    long size = s >> l;
                    details[l] = g.Input(Details(l), f, batch, 3 * c, height / size, width / size);
                }
                g.Node("Identity", [EmitInverse(w, coarse, details, null)], X);
                g.Output(X, f, batch, c, height, width);
                break;
            }
            case InnGraphKind.Guidance:
                EmitGuidance(w, g.Input(X, f, batch, c, height, width), g.Input(Observation, f, batch, c, height / s, width / s),
                    g.Input(LossWeights, f, 2L), height, width);
                g.Output(Gradient, f, batch, c, height, width);
                g.Output(CoarseDistance, f);
                g.Output(Consistency, f);
                break;
        }
        return g.ToBytes();
    }

    /// <summary>What the forward pass's VJP needs from one lifting step: its predictor and updater evaluations.</summary>
    private sealed record StepRecord(InnGraphWriter.NetEvaluation Predictor, InnGraphWriter.NetEvaluation Updater);

    /// <summary>Forward: coarse (offset added back) and the details coarsest first; <paramref name="records"/>[level][step].</summary>
    private static (string Coarse, string[] Details) EmitForward(InnGraphWriter w, string x, long height, long width,
        List<StepRecord[]>? records)
    {
        var o = LiftingOptions(w);
        var c = o.Offset == 0 ? x : w.Sub(x, w.Scalar((float)o.Offset));
        var details = new string[o.Levels];
        for (int level = 0; level < o.Levels; level++)
        {
            var (coarse, d) = w.Split(c, height >> level, width >> level);
            var steps = new StepRecord[LiftingInnOptions.LiftingSteps];
            for (int i = 0; i < LiftingInnOptions.LiftingSteps; i++)
            {
                var (prediction, p) = w.ResNet(i, 'p', coarse);
                d = w.Add(d, prediction);
                var (update, u) = w.ResNet(i, 'u', d);
                coarse = w.Add(coarse, update);
                steps[i] = new StepRecord(p, u);
            }
            records?.Add(steps);
            details[o.Levels - 1 - level] = d;
            c = coarse;
        }
        return (o.Offset == 0 ? c : w.Add(c, w.Scalar((float)o.Offset)), details);
    }

    /// <summary>Inverse from a coarse band and details (coarsest first); <paramref name="records"/>[detailIndex][step].</summary>
    private static string EmitInverse(InnGraphWriter w, string coarse, string[] details, List<StepRecord[]>? records)
    {
        var o = LiftingOptions(w);
        var c = o.Offset == 0 ? coarse : w.Sub(coarse, w.Scalar((float)o.Offset));
        for (int index = 0; index < details.Length; index++)
        {
            var d = details[index];
            var steps = new StepRecord[LiftingInnOptions.LiftingSteps];
            for (int i = LiftingInnOptions.LiftingSteps - 1; i >= 0; i--)
            {
                var (update, u) = w.ResNet(i, 'u', d);
                c = w.Sub(c, update);
                var (prediction, p) = w.ResNet(i, 'p', c);
                d = w.Sub(d, prediction);
                steps[i] = new StepRecord(p, u);
            }
            records?.Add(steps);
            c = w.Merge(c, d);
        }
        return o.Offset == 0 ? c : w.Add(c, w.Scalar((float)o.Offset));
    }

    /// <summary>
    /// L = w0·Σ_b √(‖y_b − c_b‖² + ε) + w1·‖x_inv − x‖² and ∂L/∂x, with x_inv = g⁻¹(y, details(x)).
    /// </summary>
    private static void EmitGuidance(InnGraphWriter w, string x, string y, string lossWeights, long height, long width)
    {
        var g = w.Builder;
        var o = LiftingOptions(w);
        int levels = o.Levels;
        var forward = new List<StepRecord[]>(levels);
        var (coarse, details) = EmitForward(w, x, height, width, forward);
        var inverse = new List<StepRecord[]>(levels);
        var xInverse = EmitInverse(w, y, details, inverse);

        var w0 = g.Node("Gather", [lossWeights, w.Index(0)]);
        var w1 = g.Node("Gather", [lossWeights, w.Index(1)]);

        // Coarse term: its gradient w.r.t. the coarse band is w0·(c − y)/√(‖c − y‖² + ε), per image.
        var diff = w.Sub(coarse, y);
        var squared = g.Node("ReduceSum", [w.Mul(diff, diff), g.Constant(1, 2, 3)], null, OnnxGraphBuilder.Int("keepdims", 1));
        var norm = g.Node("Sqrt", [w.Add(squared, w.Scalar(NormEpsilon))]);
        g.Node("ReduceSum", [norm], CoarseDistance, OnnxGraphBuilder.Int("keepdims", 0));
        var gCoarse = w.Mul(diff, g.Node("Div", [w0, norm]));

        // Consistency term: ∂/∂x_inv = 2·w1·r, and −2·w1·r directly on x.
        var r = w.Sub(xInverse, x);
        g.Node("ReduceSum", [w.Mul(r, r)], Consistency, OnnxGraphBuilder.Int("keepdims", 0));
        var gInverse = w.Mul(r, w.Mul(w1, w.Scalar(2f)));

        // Back through the inverse (finest level first) to the details; y is data, so its cotangent is dropped.
        var gDetails = new string[levels];
        string gc = gInverse;
        for (int index = levels - 1; index >= 0; index--)
        {
            long size = (long)o.ScaleFactor >> index; // this level's output is 2/size of the image
            var (gcLevel, gd) = w.Split(gc, height * 2 / size, width * 2 / size);
            gc = gcLevel;
            var steps = inverse[index];
            for (int i = 0; i < LiftingInnOptions.LiftingSteps; i++)
            {
                // d_new = d_old − P(c_new): c_new's cotangent loses P's VJP of d_new's.
                gc = w.Sub(gc, w.ResNetVjp(steps[i].Predictor, gd));
                // c_new = c_old − U(d_old): d_old's cotangent loses U's VJP of c_new's.
                gd = w.Sub(gd, w.ResNetVjp(steps[i].Updater, gc));
            }
            gDetails[index] = gd;
        }

        // Back through the forward pass (coarsest level first), with the coarse term's and the details' cotangents.
        gc = gCoarse;
        for (int level = levels - 1; level >= 0; level--)
        {
            var gd = gDetails[levels - 1 - level];
            var steps = forward[level];
            for (int i = LiftingInnOptions.LiftingSteps - 1; i >= 0; i--)
            {
                // c' = c + U(d'): d' also gets U's VJP of c'’s cotangent.
                gd = w.Add(gd, w.ResNetVjp(steps[i].Updater, gc));
                // d' = d + P(c): c also gets P's VJP of d'’s cotangent.
                gc = w.Add(gc, w.ResNetVjp(steps[i].Predictor, gd));
            }
            gc = w.Merge(gc, gd);
        }
        g.Node("Sub", [gc, gInverse], Gradient);
    }

    private static LiftingInnOptions LiftingOptions(InnGraphWriter w) => w.Options;
}
