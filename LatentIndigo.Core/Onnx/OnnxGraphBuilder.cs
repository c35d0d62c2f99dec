using Google.Protobuf;
using Onnx;

namespace LatentIndigo.Onnx;

/// <summary>
/// A small helper over the ONNX protobuf types (shared by the library's generated graphs and the stand-in models): declares inputs/outputs, adds nodes and float initializers, and
/// writes an IR 8 / opset 17 model (the combination ONNX Runtime 1.31 loads, see platform-notes).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>ONNX Runtime's contrib operator domain.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly GraphProto graph;
    private readonly HashSet<string> domains = [];
    private int counter;

    public OnnxGraphBuilder(string name) => graph = new GraphProto { Name = name };

    /// <summary>Declares a graph input; a dimension is a number or a symbolic name.</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Declares a graph output.</summary>
    public void Output(string name, TensorProto.Types.DataType type, params object[] dims) =>
        graph.Output.Add(ValueInfo(name, type, dims));

    /// <summary>Adds a node and returns its (first) output name; <paramref name="output"/> null picks a fresh name.</summary>
    public string Node(string op, string[] inputs, string? output = null, params AttributeProto[] attributes) =>
        Node(op, inputs, output, "", attributes);

    /// <summary>Adds a node of an operator domain (e.g. <see cref="MicrosoftDomain"/>); its opset is imported on save.</summary>
    public string Node(string op, string[] inputs, string? output, string domain, params AttributeProto[] attributes)
    {
        output ??= $"{op.ToLowerInvariant()}_{counter++}";
        var node = new NodeProto { OpType = op, Name = $"{op}_{counter++}", Domain = domain };
        if (domain.Length > 0)
        {
            domains.Add(domain);
        }
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>A float32 constant tensor stored in the model (or in the external-data file when one is set).</summary>
    public string Floats(string name, float[] values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Float, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), dims);

    /// <summary>A float16 constant tensor (the values rounded to nearest) stored like <see cref="Floats"/>.</summary>
    public string Float16s(string name, float[] values, params long[] dims)
    {
        long byteLength = 2L * values.Length;
        if (ExternalData is null || byteLength < 1024)
        {
            var halves = new Half[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                halves[i] = (Half)values[i];
            }
            return Initializer(name, TensorProto.Types.DataType.Float16, System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()), dims);
        }
        // Converted and written a chunk at a time through one reused buffer: no second copy of a large tensor.
        var t = External(name, TensorProto.Types.DataType.Float16, dims, byteLength);
        halfChunk ??= new Half[1 << 20];
        for (int start = 0; start < values.Length; start += halfChunk.Length)
        {
            int count = Math.Min(halfChunk.Length, values.Length - start);
            for (int i = 0; i < count; i++)
            {
                halfChunk[i] = (Half)values[start + i];
            }
            ExternalData.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(halfChunk.AsSpan(0, count)));
        }
        graph.Initializer.Add(t);
        return name;
    }

    private Half[]? halfChunk;

    // An initializer whose bytes follow at the external-data file's current position (the caller writes them).
    private TensorProto External(string name, TensorProto.Types.DataType type, long[] dims, long byteLength)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, DataLocation = TensorProto.Types.DataLocation.External };
        t.Dims.AddRange(dims);
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = ExternalDataFileName });
        t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = ExternalData!.Position.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = byteLength.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return t;
    }

    private string Initializer(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        if (ExternalData is not null && bytes.Length >= 1024)
        {
            t = External(name, type, dims, bytes.Length);
            ExternalData.Write(bytes);
        }
        else
        {
            t.RawData = ByteString.CopyFrom(bytes);
        }
        graph.Initializer.Add(t);
        return name;
    }

    /// <summary>An int64 constant tensor (shapes, axes).</summary>
    public string Int64s(string name, long[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values);
        graph.Initializer.Add(t);
        return name;
    }

    /// <summary>
    /// When set, large initializers go to this stream: a <see cref="MemoryStream"/> is written next to the model as
    /// <see cref="ExternalDataFileName"/> on save; a <see cref="FileStream"/> (for weights over 2 GB, see
    /// <see cref="UseExternalDataFile"/>) is the file itself.
    /// </summary>
    public Stream? ExternalData { get; set; }

    /// <summary>Streams large initializers straight into <paramref name="folder"/>/<see cref="ExternalDataFileName"/> (no size limit).</summary>
    public void UseExternalDataFile(string folder)
    {
        Directory.CreateDirectory(folder);
        ExternalData = new FileStream(Path.Combine(folder, ExternalDataFileName), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
    }

    /// <summary>A constant int64 tensor with a generated name.</summary>
    public string Constant(params long[] values) => Int64s($"const_i64_{counter++}", values, values.Length);

    /// <summary>A constant float tensor with a generated name.</summary>
    public string Constant(float[] values, params long[] dims) => Floats($"const_f32_{counter++}", values, dims);

    /// <summary>The producer name recorded in the model.</summary>
    public string ProducerName { get; set; } = "LatentIndigo";

    /// <summary>The external-data file name recorded in the model.</summary>
    public string ExternalDataFileName { get; set; } = "weights.pb";

    /// <summary>The model (IR 8, opset 17, plus the contrib domains used).</summary>
    public ModelProto ToModel()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = ProducerName, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        foreach (var domain in domains)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = 1 });
        }
        return model;
    }

    /// <summary>The serialized model, for an in-memory <c>InferenceSession</c> (no external data).</summary>
    public byte[] ToBytes() => ToModel().ToByteArray();

    /// <summary>Writes the model (and its external data, if any) into <paramref name="folder"/>/model.onnx.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        var model = ToModel();
        using (var file = File.Create(Path.Combine(folder, "model.onnx")))
        {
            model.WriteTo(file);
        }
        if (ExternalData is MemoryStream memory)
        {
            File.WriteAllBytes(Path.Combine(folder, ExternalDataFileName), memory.ToArray());
        }
        else
        {
            ExternalData?.Dispose();
        }
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Str(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d is string s
                ? new TensorShapeProto.Types.Dimension { DimParam = s }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
