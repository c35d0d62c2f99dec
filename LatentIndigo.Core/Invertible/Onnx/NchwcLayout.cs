using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using LatentIndigo.Onnx;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace LatentIndigo.Invertible;

/// <summary>
/// How ONNX Runtime's blocked-layout CPU convolution (MLAS NCHWc, operator domain <see cref="NchwcLayout.Domain"/>) takes one
/// convolution shape: whether its input must be reordered into the blocked layout, and where each weight and bias value
/// goes in the reordered tensors.
/// </summary>
/// <param name="ReorderInput">The input is read in the blocked layout (else as plain NCHW, for few input channels).</param>
/// <param name="WeightDims">Shape of the reordered weight.</param>
/// <param name="WeightIndices">For each reordered weight element, the index of the OIHW weight element it holds, or the
/// weight's element count for a zero (padding).</param>
/// <param name="BiasIndices">The same for the bias, or null without one.</param>
/// <param name="OutputChannels">Channels of the blocked output (the output channels rounded up to the block size).</param>
internal sealed record NchwcConvPlan(bool ReorderInput, long[] WeightDims, long[] WeightIndices, long[]? BiasIndices, long OutputChannels);

/// <summary>
/// Learns <see cref="NchwcConvPlan"/>s from ONNX Runtime itself. Its NCHWc convolutions are 1.4–1.6× faster than its
/// plain ones on this project's CPUs, but its optimizer uses them only for convolutions whose weights are constants
/// in the model, and the INN graphs take the weights as inputs bound to the live TorchSharp parameters. So, once per
/// convolution shape, a one-convolution model whose weight holds its own element indices is optimized and saved by
/// ONNX Runtime; the reordered weight in the saved model then spells out the permutation (and the zero padding) that
/// the blocked kernels expect, for the block size of this CPU and the ONNX Runtime version loaded, with no knowledge
/// of either written here. The INN graphs apply that permutation to the bound weights with one Gather per weight and
/// run, which costs microseconds next to the convolutions.
/// </summary>
/// <remarks>
/// Where ONNX Runtime does not rewrite the probe (a CPU without NCHWc kernels, a build without the transformer), the
/// plan is null and the graphs keep plain convolutions.
/// </remarks>
internal static class NchwcLayout
{
    /// <summary>ONNX Runtime's operator domain of the blocked-layout CPU kernels.</summary>
    public const string Domain = "com.microsoft.nchwc";

    private static readonly ConcurrentDictionary<(long Outputs, long Inputs, bool Bias), NchwcConvPlan?> Plans = new();

    /// <summary>The plan of a 3×3, pad-1 convolution from <paramref name="inputs"/> to <paramref name="outputs"/> channels, or null.</summary>
    public static NchwcConvPlan? Plan(long outputs, long inputs, bool bias) =>
        Plans.GetOrAdd((outputs, inputs, bias), key => Probe(key.Outputs, key.Inputs, key.Bias));

    /// <summary>
    /// True when every convolution of a ResNet of this width can run blocked with the activations kept blocked between
    /// them: width → width with and without bias, and the entry and exit convolutions to and from <paramref name="outer"/>
    /// channels (forward and transposed).
    /// </summary>
    public static bool Supports(long width, IEnumerable<long> outer)
    {
        bool Inner(NchwcConvPlan? p) => p is { ReorderInput: true } && p.OutputChannels == width;
        if (!Inner(Plan(width, width, true)) || !Inner(Plan(width, width, false)))
        {
            return false;
        }
        foreach (var c in outer)
        {
            // Into the ResNet: output exactly width channels (blocked). Out of it: read blocked input.
            if (Plan(width, c, false) is not { } into || into.OutputChannels != width || Plan(c, width, false) is not { ReorderInput: true })
            {
                return false;
            }
        }
        return true;
    }

    private static NchwcConvPlan? Probe(long outputs, long inputs, bool bias)
    {
        string file = Path.Combine(Path.GetTempPath(), $"latentindigo-nchwc-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        try
        {
            var g = new OnnxGraphBuilder("nchwc_probe");
            var f = TensorProto.Types.DataType.Float;
            const long side = 16;
            g.Input("x", f, 1L, inputs, side, side);
            long weightCount = outputs * inputs * 9;
            // Element i holds i + 1 (exact in float32 below 2^24), so 0 in the reordered tensor marks padding.
            string weight = g.Floats("w", Enumerable.Range(1, checked((int)weightCount)).Select(v => (float)v).ToArray(), outputs, inputs, 3, 3);
            string[] convInputs = bias ? [weight, g.Floats("b", Enumerable.Range(1, (int)outputs).Select(v => (float)v).ToArray(), outputs)] : [weight];
            g.Node("Conv", ["x", .. convInputs], "y", OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
            g.Output("y", f, 1L, outputs, side, side);
            using (var so = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                OptimizedModelFilePath = file,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, // it warns that the saved model is CPU-specific
            })
            using (new InferenceSession(g.ToBytes(), so))
            {
            }
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
            var conv = model.Graph.Node.SingleOrDefault(n => n.Domain == Domain && n.OpType == "Conv");
            if (conv is null)
            {
                return null;
            }
            var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
            if (!initializers.TryGetValue(conv.Input[1], out var w))
            {
                return null;
            }
            var weightIndices = Indices(w, weightCount);
            long[]? biasIndices = null;
            if (bias)
            {
                if (conv.Input.Count < 3 || !initializers.TryGetValue(conv.Input[2], out var b))
                {
                    return null;
                }
                biasIndices = Indices(b, outputs);
            }
            bool reorderInput = conv.Input[0] != "x";
            long blockedOutputs = w.Dims[0];
            return weightIndices is null || (bias && biasIndices is null) ? null
                : new NchwcConvPlan(reorderInput, w.Dims.ToArray(), weightIndices, biasIndices, blockedOutputs);
        }
        catch (Exception e) when (e is OnnxRuntimeException or IOException or UnauthorizedAccessException or Google.Protobuf.InvalidProtocolBufferException)
        {
            // No writable temp folder, or a saved model this code cannot read: plain convolutions, still correct.
            return null;
        }
        finally
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Source index per element (value − 1), <paramref name="count"/> for a zero; null if the values are not a padded permutation.</summary>
    private static long[]? Indices(TensorProto t, long count)
    {
        float[] values = t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
        var seen = new bool[count];
        var indices = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v == 0)
            {
                indices[i] = count;
                continue;
            }
            long source = (long)v - 1;
            if (v != MathF.Floor(v) || source < 0 || source >= count || seen[source])
            {
                return null;
            }
            seen[source] = true;
            indices[i] = source;
        }
        return seen.All(s => s) ? indices : null;
    }
}
