using System.Text.Json;

namespace LatentIndigo.Pipeline;

/// <summary>
/// A TensorFlow.js "layers-model" (<c>model.json</c>: a Keras functional topology plus a weights manifest naming binary
/// shards) read into plain C#: the layers in file order with their config and inputs, and every weight as float32 with
/// its Keras shape. Only what a converter needs: one inbound node per layer (no shared layers), float32 weights.
/// </summary>
internal sealed class TfjsLayersModel
{
    private TfjsLayersModel(List<TfjsLayer> layers, Dictionary<string, (float[] Values, long[] Shape)> weights,
        List<string> inputs, List<string> outputs)
    {
        Layers = layers;
        Weights = weights;
        Inputs = inputs;
        Outputs = outputs;
    }

    public IReadOnlyList<TfjsLayer> Layers { get; }

    /// <summary>Weights by manifest name, e.g. <c>F_0/kernel</c>.</summary>
    public IReadOnlyDictionary<string, (float[] Values, long[] Shape)> Weights { get; }

    /// <summary>Names of the model's input layers.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Names of the layers whose outputs are the model's outputs.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Reads <paramref name="modelJsonPath"/> and the shards it names (paths relative to its folder).</summary>
    /// <exception cref="LatentIndigoException">The file is not a layers model this reader understands; the message says what.</exception>
    public static TfjsLayersModel Load(string modelJsonPath)
    {
        if (!File.Exists(modelJsonPath))
        {
            throw new LatentIndigoException($"TF.js model '{modelJsonPath}' does not exist.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(modelJsonPath));
        }
        catch (JsonException e)
        {
            throw new LatentIndigoException($"'{modelJsonPath}' is not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            string format = root.TryGetProperty("format", out var f) ? f.GetString() ?? "" : "";
            if (format != "layers-model" || !root.TryGetProperty("modelTopology", out var topology))
            {
                throw new LatentIndigoException(
                    $"'{modelJsonPath}' is not a TF.js layers model (format '{format}'); graph models (tf.loadGraphModel) are not supported.");
            }
            var config = topology.GetProperty("model_config");
            string className = config.GetProperty("class_name").GetString() ?? "";
            if (className is not ("Functional" or "Model"))
            {
                throw new LatentIndigoException($"'{modelJsonPath}' holds a Keras {className}; only functional models are supported.");
            }
            var body = config.GetProperty("config");
            var layers = new List<TfjsLayer>();
            foreach (var layer in body.GetProperty("layers").EnumerateArray())
            {
                layers.Add(ReadLayer(layer));
            }
            var inputs = body.GetProperty("input_layers").EnumerateArray().Select(e => e[0].GetString()!).ToList();
            var outputs = body.GetProperty("output_layers").EnumerateArray().Select(e => e[0].GetString()!).ToList();
            var weights = ReadWeights(root.GetProperty("weightsManifest"), Path.GetDirectoryName(Path.GetFullPath(modelJsonPath))!);
            return new TfjsLayersModel(layers, weights, inputs, outputs);
        }
    }

    private static TfjsLayer ReadLayer(JsonElement layer)
    {
        string name = layer.GetProperty("name").GetString()!;
        string className = layer.GetProperty("class_name").GetString()!;
        var inbound = new List<string>();
        var nodes = layer.GetProperty("inbound_nodes");
        if (nodes.GetArrayLength() > 1)
        {
            throw new LatentIndigoException($"Layer '{name}' ({className}) is called {nodes.GetArrayLength()} times (a shared layer); not supported.");
        }
        if (nodes.GetArrayLength() == 1)
        {
            foreach (var source in nodes[0].EnumerateArray())
            {
                if (source.ValueKind != JsonValueKind.Array || source[1].GetInt32() != 0 || source[2].GetInt32() != 0)
                {
                    throw new LatentIndigoException($"Layer '{name}' ({className}) has an inbound node in a form this converter does not read: {source.GetRawText()}.");
                }
                inbound.Add(source[0].GetString()!);
            }
        }
        return new TfjsLayer(name, className, layer.GetProperty("config").Clone(), inbound);
    }

    private static Dictionary<string, (float[] Values, long[] Shape)> ReadWeights(JsonElement manifest, string folder)
    {
        var weights = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        foreach (var group in manifest.EnumerateArray())
        {
            // A group's shards are one byte stream cut into files; its weights follow each other in manifest order.
            using var bytes = new MemoryStream();
            foreach (var path in group.GetProperty("paths").EnumerateArray())
            {
                string file = Path.Combine(folder, path.GetString()!);
                if (!File.Exists(file))
                {
                    throw new LatentIndigoException($"Weight shard '{file}' named in the manifest does not exist.");
                }
                using var shard = File.OpenRead(file);
                shard.CopyTo(bytes);
            }
            var all = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
            int offset = 0;
            foreach (var entry in group.GetProperty("weights").EnumerateArray())
            {
                string name = entry.GetProperty("name").GetString()!;
                string dtype = entry.GetProperty("dtype").GetString()!;
                if (dtype != "float32" || entry.TryGetProperty("quantization", out _))
                {
                    throw new LatentIndigoException($"Weight '{name}' is {dtype}{(entry.TryGetProperty("quantization", out _) ? " (quantized)" : "")}; only unquantized float32 weights are supported.");
                }
                var shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (offset + count * 4 > all.Length)
                {
                    throw new LatentIndigoException($"The weight shards end before weight '{name}' ({all.Length} bytes; the manifest needs more).");
                }
                var values = new float[count];
                all.Slice(offset, (int)(count * 4)).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                offset += (int)(count * 4);
                weights[name] = (values, shape);
            }
        }
        return weights;
    }
}

/// <summary>One layer of a <see cref="TfjsLayersModel"/>: Keras class, config and the layers it reads from.</summary>
internal sealed record TfjsLayer(string Name, string ClassName, JsonElement Config, IReadOnlyList<string> Inbound);
