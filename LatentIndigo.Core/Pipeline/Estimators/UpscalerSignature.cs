using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LatentIndigo.Pipeline;

/// <summary>
/// What <see cref="OnnxUpscaleEstimator"/> needs to know about a super-resolution graph, read at load: the input and
/// output names, the layout, a fixed input size if the graph has one, the pixel range and (from one small probe run)
/// the scale. A graph that cannot be mapped is refused with a message saying what was found.
/// </summary>
internal sealed record UpscalerSignature(string Input, string Output, bool ChannelsLast, int? FixedHeight, int? FixedWidth,
    PixelValueRange ValueRange, int Scale)
{
    /// <summary>The sidecar JSON beside <c>model.onnx</c>: <c>model.onnx.json</c> with <c>valueRange</c> ("0-1" or "0-255") and <c>layout</c> ("NCHW" or "NHWC").</summary>
    public static string SidecarPath(string modelPath) => modelPath + ".json";

    public static UpscalerSignature Read(InferenceSession session, string name, string? modelPath, OnnxUpscaleEstimatorOptions options)
    {
        string Found() =>
            $"found inputs {Describe(session.InputMetadata)} and outputs {Describe(session.OutputMetadata)}";
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count != 1)
        {
            throw new LatentIndigoException($"The upscaler '{name}' must have one image input and one image output; {Found()}.");
        }
        var (input, inMeta) = session.InputMetadata.First();
        var (output, outMeta) = session.OutputMetadata.First();
        if (!inMeta.IsTensor || !outMeta.IsTensor || inMeta.ElementDataType != TensorElementType.Float || outMeta.ElementDataType != TensorElementType.Float
            || inMeta.Dimensions.Length != 4 || outMeta.Dimensions.Length != 4)
        {
            throw new LatentIndigoException($"The upscaler '{name}' must take and return float32 images of rank 4 (NCHW or NHWC); {Found()}. Convert float16 models to float32.");
        }
        var metadata = session.ModelMetadata.CustomMetadataMap;
        var sidecar = modelPath is not null ? ReadSidecar(SidecarPath(modelPath)) : new Dictionary<string, string>();
        string? Setting(string key, string metadataKey) =>
            sidecar.TryGetValue(key, out var v) ? v : metadata.TryGetValue(metadataKey, out var m) ? m : null;

        bool channelsLast = options.ChannelsLast
            ?? Setting("layout", "latent_indigo.layout") switch
            {
                "NHWC" or "nhwc" => true,
                "NCHW" or "nchw" => false,
                null => InferLayout(inMeta.Dimensions) ?? throw new LatentIndigoException(
                    $"The upscaler '{name}': cannot tell NCHW from NHWC ({Found()}; no axis 1 or 3 of size 3). Give the layout in OnnxUpscaleEstimatorOptions.ChannelsLast or in '{(modelPath is null ? "a sidecar" : SidecarPath(modelPath))}' (\"layout\": \"NCHW\" or \"NHWC\")."),
                var other => throw new LatentIndigoException($"The upscaler '{name}' declares layout '{other}'; use NCHW or NHWC."),
            };
        int channelAxis = channelsLast ? 3 : 1, hAxis = channelsLast ? 1 : 2, wAxis = channelsLast ? 2 : 3;
        foreach (var dims in new[] { inMeta.Dimensions, outMeta.Dimensions })
        {
            if (dims[channelAxis] is not (3 or -1) || dims[0] is not (1 or -1))
            {
                throw new LatentIndigoException(
                    $"The upscaler '{name}' read as {(channelsLast ? "NHWC" : "NCHW")} must map batch 1 (or dynamic) RGB images (3 channels on axis {channelAxis}); {Found()}.");
            }
        }
        var range = options.ValueRange
            ?? Setting("valueRange", TfjsLayersConverter.ValueRangeKey) switch
            {
                "0-255" => PixelValueRange.ZeroTo255,
                "0-1" or null => PixelValueRange.ZeroToOne,
                var other => throw new LatentIndigoException($"The upscaler '{name}' declares value range '{other}'; use 0-1 or 0-255."),
            };
        int? fixedH = inMeta.Dimensions[hAxis] > 0 ? inMeta.Dimensions[hAxis] : null;
        int? fixedW = inMeta.Dimensions[wAxis] > 0 ? inMeta.Dimensions[wAxis] : null;
        int scale = ProbeScale(session, name, input, output, channelsLast, fixedH ?? 16, fixedW ?? 16, Found);
        return new UpscalerSignature(input, output, channelsLast, fixedH, fixedW, range, scale);
    }

    private static bool? InferLayout(int[] dims) => (dims[1], dims[3]) switch
    {
        (3, not 3) => false,
        (not 3, 3) => true,
        (3, 3) => false,
        _ => null,
    };

    // One run on a small grey image: the output's size over the input's is the scale; both axes must agree.
    private static int ProbeScale(InferenceSession session, string name, string input, string output, bool channelsLast, int h, int w, Func<string> found)
    {
        long[] shape = channelsLast ? [1, h, w, 3] : [1, 3, h, w];
        var data = Enumerable.Repeat(0.5f, 3 * h * w).ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var runOptions = new RunOptions();
        long[] outShape;
        try
        {
            using var results = session.Run(runOptions, [input], [value], [output]);
            outShape = results[0].GetTensorTypeAndShape().Shape;
        }
        catch (OnnxRuntimeException e)
        {
            throw new LatentIndigoException($"The upscaler '{name}' failed on a {h}×{w} probe image ({found()}): {Diffusion.ModelSession.OneLine(e.Message)}.", e);
        }
        long oh = channelsLast ? outShape[1] : outShape[2], ow = channelsLast ? outShape[2] : outShape[3], oc = channelsLast ? outShape[3] : outShape[1];
        if (oc != 3 || oh % h != 0 || ow % w != 0 || oh / h != ow / w || oh < h)
        {
            throw new LatentIndigoException(
                $"The upscaler '{name}' turned a {h}×{w} probe into [{string.Join(",", outShape)}]: not an RGB image enlarged by one integer factor on both axes ({found()}).");
        }
        return (int)(oh / h);
    }

    private static Dictionary<string, string> ReadSidecar(string path)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return settings;
        }
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    settings[property.Name] = property.Value.GetString()!;
                }
            }
        }
        catch (JsonException e)
        {
            throw new LatentIndigoException($"The upscaler sidecar '{path}' is not valid JSON ({e.Message}).", e);
        }
        return settings;
    }

    private static string Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
        "[" + string.Join("; ", nodes.Select(n => n.Value.IsTensor
            ? $"{n.Key} {n.Value.ElementDataType} [{string.Join(",", n.Value.Dimensions.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : n.Value.SymbolicDimensions.ElementAtOrDefault(i) is { Length: > 0 } s ? s : "?"))}]"
            : $"{n.Key} {n.Value.OnnxValueType}")) + "]";
}
