using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using LatentIndigo.Onnx;
using Onnx;

namespace LatentIndigo.Pipeline;

/// <summary>
/// Converts a TensorFlow.js layers model of a super-resolution network (such as UpscalerJS's ESRGAN models) to an
/// ONNX model that <see cref="OnnxUpscaleEstimator"/> runs: NCHW float32 input <c>input</c> [1,3,H,W], output
/// <c>output</c> [1,3,H·s,W·s], the value range recorded in the model's metadata.
/// </summary>
/// <remarks>
/// Layers: InputLayer, Conv2D (stride 1, "same" or "valid", any dilation, linear/relu activation), Activation
/// (linear, relu, sigmoid, tanh), Concatenate and Add on channels, UpSampling2D (nearest), UpscalerJS's
/// <c>MultiplyBeta</c> (× its <c>beta</c>, 0.2) and <c>PixelShuffle{N}x</c> (TensorFlow's <c>depth_to_space</c> on
/// NHWC, which is ONNX's DepthToSpace in DCR mode once the channels are the NCHW axis). Any other layer is refused by
/// name. Keras kernels [kh,kw,in,out] become ONNX weights [out,in,kh,kw].
/// </remarks>
public static class TfjsLayersConverter
{
    /// <summary>Metadata key of the value range in converted models (<c>0-1</c> or <c>0-255</c>).</summary>
    internal const string ValueRangeKey = "latent_indigo.value_range";

    /// <summary>Metadata key describing where the weights came from (package, version, licence).</summary>
    internal const string SourceKey = "latent_indigo.source";

    private static readonly string[] Supported =
        ["InputLayer", "Conv2D", "Activation", "Concatenate", "Add", "UpSampling2D", "MultiplyBeta", "PixelShuffle{N}x"];

    /// <summary>
    /// Converts <paramref name="modelJsonPath"/> (with its weight shards beside it) and writes <paramref name="onnxPath"/>
    /// atomically.
    /// </summary>
    /// <param name="modelJsonPath">The TF.js <c>model.json</c>.</param>
    /// <param name="onnxPath">The ONNX file to write.</param>
    /// <param name="valueRange">The pixel range the network was trained on (UpscalerJS: 0-255 for slim and medium, 0-1 for thick).</param>
    /// <param name="source">Attribution stored in the model's metadata; null reads the npm <c>package.json</c> two folders up, if any.</param>
    /// <exception cref="LatentIndigoException">The model uses a layer or setting the converter does not support; the message names it.</exception>
    public static void Convert(string modelJsonPath, string onnxPath, PixelValueRange valueRange, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(modelJsonPath);
        ArgumentNullException.ThrowIfNull(onnxPath);
        var model = ToModel(TfjsLayersModel.Load(modelJsonPath), valueRange, source ?? PackageSource(modelJsonPath));
        AtomicFile.WriteAllBytes(onnxPath, model.ToByteArray());
    }

    internal static ModelProto ToModel(TfjsLayersModel tfjs, PixelValueRange valueRange, string? source)
    {
        if (tfjs.Inputs.Count != 1 || tfjs.Outputs.Count != 1)
        {
            throw new LatentIndigoException($"The model has {tfjs.Inputs.Count} inputs and {tfjs.Outputs.Count} outputs; a super-resolution network has one of each.");
        }
        var builder = new OnnxGraphBuilder("tfjs_layers") { ProducerName = "LatentIndigo TfjsLayersConverter" };
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var channels = new Dictionary<string, long>(StringComparer.Ordinal);
        var pending = tfjs.Layers.ToList();
        while (pending.Count > 0)
        {
            // Keras writes layers in topological order, but nothing requires it: take any layer whose inputs are ready.
            var layer = pending.FirstOrDefault(l => l.Inbound.All(values.ContainsKey))
                ?? throw new LatentIndigoException($"Layer '{pending[0].Name}' reads from a layer that never appears ({string.Join(", ", pending[0].Inbound.Where(i => !values.ContainsKey(i)))}).");
            pending.Remove(layer);
            var inputs = layer.Inbound.Select(i => values[i]).ToArray();
            var inChannels = layer.Inbound.Select(i => channels[i]).ToArray();
            (values[layer.Name], channels[layer.Name]) = AddLayer(builder, tfjs, layer, inputs, inChannels);
        }
        string output = values[tfjs.Outputs[0]];
        if (channels[tfjs.Outputs[0]] != 3 || channels[tfjs.Inputs[0]] != 3)
        {
            throw new LatentIndigoException($"The model maps {channels[tfjs.Inputs[0]]} to {channels[tfjs.Outputs[0]]} channels; an RGB super-resolution network maps 3 to 3.");
        }
        builder.Node("Identity", [output], "output");
        builder.Output("output", TensorProto.Types.DataType.Float, "batch", 3, "out_height", "out_width");
        var proto = builder.ToModel();
        proto.MetadataProps.Add(new StringStringEntryProto { Key = ValueRangeKey, Value = valueRange == PixelValueRange.ZeroTo255 ? "0-255" : "0-1" });
        if (!string.IsNullOrEmpty(source))
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = SourceKey, Value = source });
        }
        return proto;
    }

    private static (string Output, long Channels) AddLayer(OnnxGraphBuilder b, TfjsLayersModel tfjs, TfjsLayer layer, string[] inputs, long[] inChannels)
    {
        var config = layer.Config;
        switch (layer.ClassName)
        {
            case "InputLayer":
            {
                var shape = config.GetProperty("batch_input_shape");
                int rank = shape.GetArrayLength();
                if (rank != 4 || shape[3].ValueKind != JsonValueKind.Number)
                {
                    throw new LatentIndigoException($"Input layer '{layer.Name}' has shape {shape.GetRawText()}; expected [batch, height, width, channels] with a fixed channel count.");
                }
                long c = shape[3].GetInt64();
                return (b.Input("input", TensorProto.Types.DataType.Float, "batch", c, "height", "width"), c);
            }
            case "Conv2D":
                return Conv(b, tfjs, layer, inputs[0], inChannels[0]);
            case "Activation":
                return (Activation(b, layer, config.GetProperty("activation").GetString()!, inputs[0]), inChannels[0]);
            case "Concatenate":
            {
                int axis = config.TryGetProperty("axis", out var a) ? a.GetInt32() : -1;
                if (axis is not (3 or -1))
                {
                    throw new LatentIndigoException($"Concatenate layer '{layer.Name}' joins axis {axis}; only the channel axis (3 or -1) is supported.");
                }
                return (b.Node("Concat", inputs, null, OnnxGraphBuilder.Int("axis", 1)), inChannels.Sum());
            }
            case "Add":
                return (b.Node("Sum", inputs), inChannels[0]);
            case "MultiplyBeta":
            {
                // UpscalerJS's residual scaling; its JavaScript class multiplies by 0.2, the value its configs record.
                float beta = config.TryGetProperty("beta", out var v) ? v.GetSingle() : 0.2f;
                return (b.Node("Mul", [inputs[0], b.Constant([beta])]), inChannels[0]);
            }
            case "UpSampling2D":
            {
                string interpolation = config.TryGetProperty("interpolation", out var i) ? i.GetString()! : "nearest";
                var size = config.GetProperty("size").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                if (interpolation != "nearest" || DataFormat(config) != "channels_last")
                {
                    throw new LatentIndigoException($"UpSampling2D layer '{layer.Name}' uses {interpolation} interpolation on {DataFormat(config)}; only nearest on channels_last is supported.");
                }
                // Nearest upsampling by an integer factor repeats each pixel: asymmetric coordinates with floor.
                string scales = b.Constant([1f, 1f, size[0], size[1]], 4);
                return (b.Node("Resize", [inputs[0], "", scales], null,
                    OnnxGraphBuilder.Str("mode", "nearest"),
                    OnnxGraphBuilder.Str("coordinate_transformation_mode", "asymmetric"),
                    OnnxGraphBuilder.Str("nearest_mode", "floor")), inChannels[0]);
            }
            default:
                if (layer.ClassName.StartsWith("PixelShuffle", StringComparison.Ordinal) && layer.ClassName.EndsWith('x'))
                {
                    int scale = config.TryGetProperty("scale", out var s) ? s.GetInt32()
                        : int.Parse(layer.ClassName["PixelShuffle".Length..^1], CultureInfo.InvariantCulture);
                    if (inChannels[0] % (scale * scale) != 0)
                    {
                        throw new LatentIndigoException($"{layer.ClassName} layer '{layer.Name}' gets {inChannels[0]} channels, not a multiple of {scale * scale}.");
                    }
                    // tf.depthToSpace(x, s, 'NHWC'): out[h·s+i, w·s+j, c] = in[h, w, (i·s+j)·C + c], which is DCR order.
                    return (b.Node("DepthToSpace", inputs, null, OnnxGraphBuilder.Int("blocksize", scale), OnnxGraphBuilder.Str("mode", "DCR")),
                        inChannels[0] / (scale * scale));
                }
                throw new LatentIndigoException(
                    $"Layer '{layer.Name}' is a {layer.ClassName}, which the converter does not support. Supported layers: {string.Join(", ", Supported)}.");
        }
    }

    private static (string, long) Conv(OnnxGraphBuilder b, TfjsLayersModel tfjs, TfjsLayer layer, string input, long inChannels)
    {
        var config = layer.Config;
        var strides = Ints(config, "strides", 1);
        var dilation = Ints(config, "dilation_rate", 1);
        long groups = config.TryGetProperty("groups", out var g) ? g.GetInt64() : 1;
        string padding = config.GetProperty("padding").GetString()!;
        if (strides.Any(s => s != 1) || groups != 1 || DataFormat(config) != "channels_last" || padding is not ("same" or "valid"))
        {
            throw new LatentIndigoException(
                $"Conv2D layer '{layer.Name}' has strides [{string.Join(",", strides)}], groups {groups}, padding '{padding}', data format {DataFormat(config)}; supported: stride 1, one group, 'same' or 'valid', channels_last.");
        }
        if (!tfjs.Weights.TryGetValue(layer.Name + "/kernel", out var kernel) || kernel.Shape.Length != 4 || kernel.Shape[2] != inChannels)
        {
            throw new LatentIndigoException($"Conv2D layer '{layer.Name}': weight '{layer.Name}/kernel' is missing or not [kh,kw,{inChannels},out].");
        }
        long kh = kernel.Shape[0], kw = kernel.Shape[1], cin = kernel.Shape[2], cout = kernel.Shape[3];
        if (padding == "same" && (kh % 2 == 0 || kw % 2 == 0))
        {
            throw new LatentIndigoException($"Conv2D layer '{layer.Name}' pads 'same' with an even kernel ({kh}×{kw}); TensorFlow pads such kernels asymmetrically, which is not supported.");
        }
        // [kh,kw,in,out] → [out,in,kh,kw]
        var weight = new float[kernel.Values.Length];
        for (long y = 0; y < kh; y++)
        for (long x = 0; x < kw; x++)
        for (long i = 0; i < cin; i++)
        for (long o = 0; o < cout; o++)
        {
            weight[((o * cin + i) * kh + y) * kw + x] = kernel.Values[((y * kw + x) * cin + i) * cout + o];
        }
        var inputs = new List<string> { input, b.Floats(layer.Name + "/kernel", weight, cout, cin, kh, kw) };
        if (!config.TryGetProperty("use_bias", out var useBias) || useBias.GetBoolean())
        {
            if (!tfjs.Weights.TryGetValue(layer.Name + "/bias", out var bias) || bias.Values.Length != cout)
            {
                throw new LatentIndigoException($"Conv2D layer '{layer.Name}': weight '{layer.Name}/bias' is missing or not [{cout}].");
            }
            inputs.Add(b.Floats(layer.Name + "/bias", bias.Values, cout));
        }
        long padY = padding == "same" ? dilation[0] * (kh - 1) / 2 : 0, padX = padding == "same" ? dilation[1] * (kw - 1) / 2 : 0;
        string conv = b.Node("Conv", inputs.ToArray(), null,
            OnnxGraphBuilder.Ints("kernel_shape", kh, kw),
            OnnxGraphBuilder.Ints("pads", padY, padX, padY, padX),
            OnnxGraphBuilder.Ints("dilations", dilation[0], dilation[1]));
        string activation = config.TryGetProperty("activation", out var a) ? a.GetString()! : "linear";
        return (Activation(b, layer, activation, conv), cout);
    }

    private static string Activation(OnnxGraphBuilder b, TfjsLayer layer, string activation, string input) => activation switch
    {
        "linear" => input,
        "relu" => b.Node("Relu", [input]),
        "sigmoid" => b.Node("Sigmoid", [input]),
        "tanh" => b.Node("Tanh", [input]),
        _ => throw new LatentIndigoException($"Layer '{layer.Name}' uses the activation '{activation}'; supported: linear, relu, sigmoid, tanh."),
    };

    private static long[] Ints(JsonElement config, string name, long fallback) =>
        config.TryGetProperty(name, out var v) ? v.EnumerateArray().Select(e => e.GetInt64()).ToArray() : [fallback, fallback];

    private static string DataFormat(JsonElement config) =>
        config.TryGetProperty("data_format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "channels_last";

    /// <summary>"@upscalerjs/esrgan-slim 1.0.0 (MIT)" from the npm package.json two folders above model.json, if there is one.</summary>
    private static string? PackageSource(string modelJsonPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelJsonPath));
        for (int up = 0; up < 3 && folder is not null; up++, folder = Path.GetDirectoryName(folder))
        {
            string package = Path.Combine(folder, "package.json");
            if (!File.Exists(package))
            {
                continue;
            }
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllText(package));
                var root = json.RootElement;
                string Read(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "?";
                string relative = Path.GetRelativePath(folder, Path.GetFullPath(modelJsonPath)).Replace('\\', '/');
                return $"{Read("name")} {Read("version")} {relative} (licence {Read("license")})";
            }
            catch (JsonException)
            {
                return null;
            }
        }
        return null;
    }
}
