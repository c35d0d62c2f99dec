using LatentIndigo.Onnx;

namespace LatentIndigo.Diffusion.Architecture;

/// <summary>
/// The building blocks of the SD architectures as ONNX opset-17 nodes (GroupNorm through InstanceNormalization over
/// [B, groups, −1], as PyTorch exports it below opset 18), with weights read from an <see cref="ISdWeights"/> under
/// PyTorch-style parameter names. Without weights it only lists the parameters (names and shapes), which is how a
/// checkpoint is checked against the architecture before anything is written.
/// </summary>
/// <param name="g">The graph the nodes go into.</param>
/// <param name="weights">Where parameters come from; null lists them without storing any.</param>
/// <param name="float16Weights">Store parameters as float16 initializers (converted to float32 inside the graph).</param>
internal sealed class SdGraphLayers(OnnxGraphBuilder g, ISdWeights? weights, bool float16Weights = false)
{
    private readonly List<(string Name, long[] Shape)> parameters = [];

    public OnnxGraphBuilder G { get; } = g;

    /// <summary>Parameters added so far (elements).</summary>
    public long Parameters { get; private set; }

    /// <summary>Every parameter the graph uses, in the order it was added, with its PyTorch shape.</summary>
    public IReadOnlyList<(string Name, long[] Shape)> ParameterList => parameters;

    public string Param(string name, long[] shape, SdTensorRole role) => Store(name, shape, shape, w => w.Read(name, shape, role));

    // Lists the tensor (PyTorch shape) and, given weights, reads it and stores it with the graph's shape.
    private string Store(string name, long[] torchShape, long[] graphShape, Func<ISdWeights, float[]> values)
    {
        parameters.Add((name, torchShape));
        Parameters += torchShape.Aggregate(1L, (p, d) => p * d);
        if (weights is null)
        {
            return name;
        }
        if (!float16Weights)
        {
            return G.Floats(name, values(weights), graphShape);
        }
        // fp16 storage halves the files; the graph still computes in float32 (as SD's upcast attention and GroupNorm want).
        var stored = G.Float16s(name + ".fp16", values(weights), graphShape);
        return G.Node("Cast", [stored], name, OnnxGraphBuilder.Int("to", (long)global::Onnx.TensorProto.Types.DataType.Float));
    }

    public string Node(string op, params string[] inputs) => G.Node(op, inputs);

    public string Conv(string x, string name, int cin, int cout, int k, int stride = 1, long[]? pads = null)
    {
        var w = Param(name + ".weight", [cout, cin, k, k], SdTensorRole.Weight);
        var b = Param(name + ".bias", [cout], SdTensorRole.Bias);
        pads ??= [k / 2, k / 2, k / 2, k / 2];
        return G.Node("Conv", [x, w, b], null, OnnxGraphBuilder.Ints("kernel_shape", k, k), OnnxGraphBuilder.Ints("strides", stride, stride),
            OnnxGraphBuilder.Ints("pads", pads));
    }

    /// <summary>x [..., cin] · Wᵀ + b with W [cout, cin] (stored transposed as ONNX MatMul wants it).</summary>
    public string Linear(string x, string name, int cin, int cout, bool bias = true)
    {
        var weight = Store(name + ".weight", [cout, cin], [cin, cout], source =>
        {
            var w = source.Read(name + ".weight", [cout, cin], SdTensorRole.Weight);
            var wt = GC.AllocateUninitializedArray<float>(w.Length);
            Transpose(w, cout, cin, wt);
            return wt;
        });
        var y = G.Node("MatMul", [x, weight]);
        return bias ? G.Node("Add", [y, Param(name + ".bias", [cout], SdTensorRole.Bias)]) : y;
    }

    /// <summary>
    /// <paramref name="destination"/> [cols, rows] = <paramref name="source"/> [rows, cols]ᵀ, in 32×32 tiles so both
    /// sides stay in cache (a row-by-row transpose of a 1280×1280 matrix misses the cache on every write).
    /// </summary>
    internal static void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        const int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile)
        {
            int r1 = Math.Min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile)
            {
                int c1 = Math.Min(cols, c0 + tile);
                for (int r = r0; r < r1; r++)
                {
                    var row = source.Slice(r * cols, cols);
                    for (int c = c0; c < c1; c++)
                    {
                        destination[c * rows + r] = row[c];
                    }
                }
            }
        }
    }

    public string GroupNorm(string x, string name, int channels, int groups, float eps)
    {
        var shape = G.Node("Shape", [x]);
        var grouped = G.Node("Reshape", [x, G.Constant(0, groups, -1)]);
        var normalised = G.Node("InstanceNormalization", [grouped, G.Constant(Enumerable.Repeat(1f, groups).ToArray(), groups), G.Constant(new float[groups], groups)],
            null, OnnxGraphBuilder.Float("epsilon", eps));
        var back = G.Node("Reshape", [normalised, shape]);
        var gamma = Param(name + ".weight", [channels], SdTensorRole.NormScale);
        var beta = Param(name + ".bias", [channels], SdTensorRole.Bias);
        var gamma3 = G.Node("Reshape", [gamma, G.Constant(channels, 1, 1)]);
        var beta3 = G.Node("Reshape", [beta, G.Constant(channels, 1, 1)]);
        return G.Node("Add", [G.Node("Mul", [back, gamma3]), beta3]);
    }

    public string LayerNorm(string x, string name, int dim, float eps = 1e-5f) =>
        G.Node("LayerNormalization", [x, Param(name + ".weight", [dim], SdTensorRole.NormScale), Param(name + ".bias", [dim], SdTensorRole.Bias)], null,
            OnnxGraphBuilder.Int("axis", -1), OnnxGraphBuilder.Float("epsilon", eps));

    public string Silu(string x) => G.Node("Mul", [x, G.Node("Sigmoid", [x])]);

    /// <summary>Exact GELU: ½x(1 + erf(x/√2)).</summary>
    public string Gelu(string x)
    {
        var erf = G.Node("Erf", [G.Node("Mul", [x, G.Constant([(float)(1 / Math.Sqrt(2))], 1)])]);
        return G.Node("Mul", [G.Node("Mul", [x, G.Constant([0.5f], 1)]), G.Node("Add", [erf, G.Constant([1f], 1)])]);
    }

    /// <summary>CLIP's quick GELU: x·σ(1.702x).</summary>
    public string QuickGelu(string x) => G.Node("Mul", [x, G.Node("Sigmoid", [G.Node("Mul", [x, G.Constant([1.702f], 1)])])]);

    /// <summary>
    /// Multi-head attention of x [B, N, dim] over context [B, M, contextDim] (x itself when null): to_q/to_k/to_v
    /// (bias as given), softmax(q·kᵀ/√d + mask), to_out (with bias).
    /// </summary>
    public string Attention(string x, string? context, string name, int dim, int contextDim, int heads, bool qkvBias,
        string? mask = null, string q = "to_q", string k = "to_k", string v = "to_v", string o = "to_out.0")
    {
        int d = dim / heads;
        var kv = context ?? x;
        string Heads(string t) => G.Node("Transpose", [G.Node("Reshape", [t, G.Constant(0, 0, heads, d)])], null, OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
        var qh = Heads(Linear(x, $"{name}.{q}", dim, dim, qkvBias));
        var kh = Heads(Linear(kv, $"{name}.{k}", contextDim, dim, qkvBias));
        var vh = Heads(Linear(kv, $"{name}.{v}", contextDim, dim, qkvBias));
        var kt = G.Node("Transpose", [kh], null, OnnxGraphBuilder.Ints("perm", 0, 1, 3, 2));
        var scores = G.Node("Mul", [G.Node("MatMul", [qh, kt]), G.Constant([(float)(1 / Math.Sqrt(d))], 1)]);
        if (mask is not null)
        {
            scores = G.Node("Add", [scores, mask]);
        }
        var weights = G.Node("Softmax", [scores], null, OnnxGraphBuilder.Int("axis", -1));
        var merged = G.Node("Reshape", [G.Node("Transpose", [G.Node("MatMul", [weights, vh])], null, OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3)), G.Constant(0, 0, dim)]);
        return Linear(merged, $"{name}.{o}", dim, dim);
    }

    /// <summary>[B, C, H, W] → [B, H·W, C].</summary>
    public string Flatten(string x, int channels) =>
        G.Node("Transpose", [G.Node("Reshape", [x, G.Constant(0, channels, -1)])], null, OnnxGraphBuilder.Ints("perm", 0, 2, 1));

    /// <summary>[B, H·W, C] → the shape of <paramref name="like"/> [B, C, H, W].</summary>
    public string Unflatten(string x, string like) =>
        G.Node("Reshape", [G.Node("Transpose", [x], null, OnnxGraphBuilder.Ints("perm", 0, 2, 1)), G.Node("Shape", [like])]);

    /// <summary>
    /// A ResNet block: GN → SiLU → conv3 (+ time projection) → GN → SiLU → conv3, plus the input (through a 1×1
    /// conv_shortcut when the width changes).
    /// </summary>
    public string ResNet(string x, string name, int cin, int cout, int groups, float eps, string? temb, int tembDim)
    {
        var h = Conv(Silu(GroupNorm(x, name + ".norm1", cin, groups, eps)), name + ".conv1", cin, cout, 3);
        if (temb is not null)
        {
            var t = Linear(Silu(temb), name + ".time_emb_proj", tembDim, cout);
            h = G.Node("Add", [h, G.Node("Unsqueeze", [t, G.Constant(2, 3)])]);
        }
        h = Conv(Silu(GroupNorm(h, name + ".norm2", cout, groups, eps)), name + ".conv2", cout, cout, 3);
        var shortcut = cin == cout ? x : Conv(x, name + ".conv_shortcut", cin, cout, 1);
        return G.Node("Add", [shortcut, h]);
    }

    public string Upsample(string x, string name, int channels)
    {
        var up = G.Node("Resize", [x, "", G.Constant([1f, 1f, 2f, 2f], 4)], null, OnnxGraphBuilder.Str("mode", "nearest"));
        return Conv(up, name + ".conv", channels, channels, 3);
    }
}
