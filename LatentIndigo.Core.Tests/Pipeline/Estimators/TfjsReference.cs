using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Pipeline.Estimators;

/// <summary>
/// An independent float64 implementation of the TF.js layers the converter handles, reading model.json and the weight
/// shards itself and computing in TensorFlow's NHWC layout (convolutions go through NCHW only inside
/// <see cref="Conv"/>). Shares no code with the converter: depth_to_space is written from TensorFlow's definition
/// out[n, h·s+i, w·s+j, c] = in[n, h, w, (i·s+j)·C + c] as strided slice assignments.
/// </summary>
internal static class TfjsReference
{
    /// <summary>Runs the model on <paramref name="input"/> [1,H,W,C] (float64) and returns the NHWC output.</summary>
    public static Tensor Run(string modelJsonPath, Tensor input)
    {
        var root = JsonNode.Parse(File.ReadAllText(modelJsonPath))!;
        var weights = ReadWeights(root["weightsManifest"]!.AsArray(), Path.GetDirectoryName(modelJsonPath)!);
        var config = root["modelTopology"]!["model_config"]!["config"]!;
        var values = new Dictionary<string, Tensor>();
        foreach (var layer in config["layers"]!.AsArray())
        {
            string name = (string)layer!["name"]!;
            string cls = (string)layer["class_name"]!;
            var cfg = layer["config"]!;
            var inputs = layer["inbound_nodes"]!.AsArray().Count == 0
                ? new List<Tensor>()
                : layer["inbound_nodes"]![0]!.AsArray().Select(n => values[(string)n![0]!]).ToList();
            values[name] = cls switch
            {
                "InputLayer" => input,
                "Conv2D" => Activate(Conv(inputs[0], weights[name + "/kernel"], weights[name + "/bias"], (string)cfg["padding"]!), (string)cfg["activation"]!),
                "Activation" => Activate(inputs[0], (string)cfg["activation"]!),
                "Concatenate" => torch.cat(inputs, 3),
                "Add" => inputs.Aggregate((a, b) => a + b),
                "MultiplyBeta" => inputs[0] * (double)cfg["beta"]!,
                "UpSampling2D" => inputs[0].repeat_interleave((long)(int)cfg["size"]![0]!, 1).repeat_interleave((long)(int)cfg["size"]![1]!, 2),
                _ when cls.StartsWith("PixelShuffle", StringComparison.Ordinal) => DepthToSpace(inputs[0], (int)cfg["scale"]!),
                _ => throw new NotSupportedException(cls),
            };
        }
        return values[(string)config["output_layers"]![0]![0]!];
    }

    // Keras kernel [kh, kw, in, out] → torch [out, in, kh, kw]; "same" with odd kernels pads (k−1)/2 on each side.
    private static Tensor Conv(Tensor x, Tensor kernel, Tensor bias, string padding)
    {
        long pad = padding == "same" ? (kernel.shape[0] - 1) / 2 : 0;
        var y = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias, padding: [pad, pad]);
        return y.permute(0, 2, 3, 1);
    }

    private static Tensor Activate(Tensor x, string activation) => activation switch
    {
        "linear" => x,
        "relu" => torch.nn.functional.relu(x),
        _ => throw new NotSupportedException(activation),
    };

    private static Tensor DepthToSpace(Tensor x, int s)
    {
        long n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3] / (s * s);
        var output = torch.zeros(n, h * s, w * s, c, dtype: x.dtype);
        for (int i = 0; i < s; i++)
        {
            for (int j = 0; j < s; j++)
            {
                long first = (i * s + j) * c;
                output[.., TensorIndex.Slice(i, null, s), TensorIndex.Slice(j, null, s), ..] = x[.., .., .., TensorIndex.Slice(first, first + c)];
            }
        }
        return output;
    }

    private static Dictionary<string, Tensor> ReadWeights(JsonArray manifest, string folder)
    {
        var weights = new Dictionary<string, Tensor>();
        foreach (var group in manifest)
        {
            var bytes = group!["paths"]!.AsArray().SelectMany(p => File.ReadAllBytes(Path.Combine(folder, (string)p!))).ToArray();
            int offset = 0;
            foreach (var entry in group["weights"]!.AsArray())
            {
                var shape = entry!["shape"]!.AsArray().Select(d => (long)d!).ToArray();
                int count = (int)shape.Aggregate(1L, (a, b) => a * b);
                var floats = new float[count];
                Buffer.BlockCopy(bytes, offset, floats, 0, count * 4);
                offset += count * 4;
                weights[(string)entry["name"]!] = torch.tensor(floats.Select(f => (double)f).ToArray(), shape, torch.float64);
            }
        }
        return weights;
    }
}
