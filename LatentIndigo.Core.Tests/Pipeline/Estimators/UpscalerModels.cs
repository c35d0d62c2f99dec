using Google.Protobuf;
using LatentIndigo.Onnx;
using Onnx;

namespace LatentIndigo.Tests.Pipeline.Estimators;

/// <summary>
/// Small ×2 super-resolution graphs for the estimator tests, all computing one function f: conv 3×3 (3→12) →
/// DepthToSpace → conv 3×3 (3→3) with fixed random weights. Its receptive field reaches 1.5 input pixels, well inside a
/// quarter of a 16-pixel overlap. Variants wrap f in NHWC transposes or a 0-255 interface (÷255 in, ×255 out), so every
/// variant read correctly gives the same image.
/// </summary>
internal static class UpscalerModels
{
    public static byte[] Build(bool channelsLast = false, bool range255 = false, string? rangeMetadata = null, int seed = 4)
    {
        var random = new Random(seed);
        float[] Weights(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * 0.4f).ToArray();
        var b = new OnnxGraphBuilder("sr");
        string x = channelsLast
            ? b.Input("image", TensorProto.Types.DataType.Float, 1, "h", "w", 3)
            : b.Input("image", TensorProto.Types.DataType.Float, 1, 3, "h", "w");
        if (channelsLast)
        {
            x = b.Node("Transpose", [x], null, OnnxGraphBuilder.Ints("perm", 0, 3, 1, 2));
        }
        if (range255)
        {
            x = b.Node("Mul", [x, b.Constant([1f / 255f])]);
        }
        x = b.Node("Conv", [x, b.Floats("w1", Weights(12 * 3 * 9), 12, 3, 3, 3), b.Floats("b1", Weights(12), 12)], null,
            OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        x = b.Node("DepthToSpace", [x], null, OnnxGraphBuilder.Int("blocksize", 2), OnnxGraphBuilder.Str("mode", "DCR"));
        x = b.Node("Conv", [x, b.Floats("w2", Weights(3 * 3 * 9), 3, 3, 3, 3), b.Floats("b2", Weights(3), 3)], null,
            OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        x = b.Node("Add", [x, b.Constant([0.5f])]); // centred on mid-grey so the output stays mostly inside [0,1]
        if (range255)
        {
            x = b.Node("Mul", [x, b.Constant([255f])]);
        }
        if (channelsLast)
        {
            x = b.Node("Transpose", [x], null, OnnxGraphBuilder.Ints("perm", 0, 2, 3, 1));
        }
        b.Node("Identity", [x], "upscaled");
        if (channelsLast)
        {
            b.Output("upscaled", TensorProto.Types.DataType.Float, 1, "H", "W", 3);
        }
        else
        {
            b.Output("upscaled", TensorProto.Types.DataType.Float, 1, 3, "H", "W");
        }
        var model = b.ToModel();
        if (rangeMetadata is not null)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = "latent_indigo.value_range", Value = rangeMetadata });
        }
        return model.ToByteArray();
    }

    /// <summary>A graph of two inputs, one grey-scale input, or one that shrinks: each must be refused at load.</summary>
    public static byte[] Unmappable(string kind)
    {
        var b = new OnnxGraphBuilder("bad");
        switch (kind)
        {
            case "two-inputs":
                b.Input("a", TensorProto.Types.DataType.Float, 1, 3, "h", "w");
                b.Input("noise_level", TensorProto.Types.DataType.Float, 1);
                b.Node("Identity", ["a"], "y");
                b.Output("y", TensorProto.Types.DataType.Float, 1, 3, "h", "w");
                break;
            case "grey":
                b.Input("a", TensorProto.Types.DataType.Float, 1, 1, "h", "w");
                b.Node("Identity", ["a"], "y");
                b.Output("y", TensorProto.Types.DataType.Float, 1, 1, "h", "w");
                break;
            default: // shrinks by 2
                b.Input("a", TensorProto.Types.DataType.Float, 1, 3, "h", "w");
                b.Node("AveragePool", ["a"], "y", OnnxGraphBuilder.Ints("kernel_shape", 2, 2), OnnxGraphBuilder.Ints("strides", 2, 2));
                b.Output("y", TensorProto.Types.DataType.Float, 1, 3, "h2", "w2");
                break;
        }
        return b.ToBytes();
    }
}
