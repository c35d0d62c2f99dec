using System.Text;
using LatentIndigo.Weights.Torch;

namespace LatentIndigo.Weights;

/// <summary>
/// Writes a PyTorch checkpoint as <c>torch.save</c> does (zip format): <c>{archive}/data.pkl</c> (pickle protocol 2),
/// <c>{archive}/byteorder</c>, one stored entry <c>{archive}/data/{i}</c> per tensor, and <c>{archive}/version</c>.
/// Each tensor is pickled as <c>torch._utils._rebuild_tensor_v2</c> of a persistent id
/// <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c>; the state dict is a <c>collections.OrderedDict</c>,
/// at the top level (diffusers <c>.bin</c>) or under <c>state_dict</c> beside extra entries (Lightning <c>.ckpt</c>).
/// </summary>
internal sealed class TorchCheckpointWriter : WeightWriter
{
    private readonly ZipStoreWriter zip;
    private readonly string archive;
    private readonly Dictionary<string, int> keys = new(StringComparer.Ordinal);

    /// <param name="stream">A seekable stream (the zip headers are patched after each tensor).</param>
    /// <param name="tensors">The tensors, in the order they will be written.</param>
    /// <param name="nestUnder">Top-level key holding the state dict (<c>"state_dict"</c> for .ckpt); null for a flat file.</param>
    /// <param name="extras">Other top-level entries (strings, integers, floats, nested dictionaries), written only when nesting.</param>
    /// <param name="archiveName">The zip's top folder (torch.save uses the file name without extension; any name loads).</param>
    public TorchCheckpointWriter(Stream stream, IReadOnlyList<WeightInfo> tensors, string? nestUnder = null,
        IReadOnlyList<KeyValuePair<string, object?>>? extras = null, string archiveName = "archive")
        : base(tensors)
    {
        if (extras is { Count: > 0 } && nestUnder is null)
        {
            throw new ArgumentException("Extra entries need a nested state dict (nestUnder).", nameof(extras));
        }
        zip = new ZipStoreWriter(stream);
        archive = archiveName + "/";
        for (int i = 0; i < tensors.Count; i++)
        {
            keys[tensors[i].Name] = i;
        }
        var pickle = new PickleWriter();
        if (nestUnder is not null)
        {
            pickle.Op(0x7D); // EMPTY_DICT
            var top = new List<KeyValuePair<string, object?>>(extras ?? []) { new(nestUnder, null) };
            pickle.Items(top, (key, value) =>
            {
                if (key == nestUnder)
                {
                    StateDict(pickle, tensors);
                }
                else
                {
                    pickle.Value(value);
                }
            });
        }
        else
        {
            StateDict(pickle, tensors);
        }
        zip.Add(archive + "data.pkl", pickle.Finish());
        zip.Add(archive + "byteorder", "little"u8);
    }

    /// <summary>Writes a whole checkpoint atomically from in-memory float32 tensors (tests and tools).</summary>
    public static void WriteFile(string path, IReadOnlyList<(WeightInfo Info, float[] Values)> tensors, string? nestUnder = null,
        IReadOnlyList<KeyValuePair<string, object?>>? extras = null) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new TorchCheckpointWriter(stream, tensors.Select(t => t.Info).ToList(), nestUnder, extras);
            foreach (var (info, values) in tensors)
            {
                writer.Write(info.Name, values);
            }
            writer.Complete();
        });

    private void StateDict(PickleWriter pickle, IReadOnlyList<WeightInfo> tensors)
    {
        pickle.Global("collections", "OrderedDict");
        pickle.Op(0x29); // EMPTY_TUPLE
        pickle.Op(0x52); // REDUCE
        pickle.Items(tensors.Select(t => new KeyValuePair<string, object?>(t.Name, t)), (_, value) => Tensor(pickle, (WeightInfo)value!));
    }

    private void Tensor(PickleWriter pickle, WeightInfo info)
    {
        pickle.Global("torch._utils", "_rebuild_tensor_v2");
        pickle.Mark();
        // Persistent id: ('storage', torch.<Type>Storage, key, 'cpu', numel).
        pickle.Mark();
        pickle.String("storage");
        pickle.Global("torch", info.DType.TorchStorageName());
        pickle.String(keys[info.Name].ToString(System.Globalization.CultureInfo.InvariantCulture));
        pickle.String("cpu");
        pickle.Int(info.ElementCount);
        pickle.Op(0x74); // TUPLE
        pickle.Op(0x51); // BINPERSID
        pickle.Int(0); // storage offset
        pickle.Tuple(info.Shape.Length, i => pickle.Int(info.Shape[i]));
        var stride = new long[info.Shape.Length];
        long s = 1;
        for (int d = stride.Length - 1; d >= 0; d--)
        {
            stride[d] = s;
            s *= info.Shape[d];
        }
        pickle.Tuple(stride.Length, i => pickle.Int(stride[i]));
        pickle.Value(false); // requires_grad
        pickle.Global("collections", "OrderedDict"); // backward hooks
        pickle.Op(0x29);
        pickle.Op(0x52);
        pickle.Op(0x74); // TUPLE of the six arguments
        pickle.Op(0x52); // REDUCE
    }

    protected override void BeginTensor(WeightInfo info) =>
        zip.Begin(archive + "data/" + keys[info.Name].ToString(System.Globalization.CultureInfo.InvariantCulture));

    protected override void WriteData(ReadOnlySpan<byte> bytes) => zip.Append(bytes);

    protected override void EndTensor(WeightInfo info) => zip.End();

    protected override void Finish()
    {
        zip.Add(archive + "version", Encoding.ASCII.GetBytes("3\n"));
        zip.Finish();
    }
}
