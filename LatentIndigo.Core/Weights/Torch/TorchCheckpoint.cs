using System.IO.Compression;
using System.Text;

namespace LatentIndigo.Weights.Torch;

/// <summary>
/// A PyTorch checkpoint in the zip format of <c>torch.save</c> (PyTorch 1.6 and later): <c>{archive}/data.pkl</c>
/// holds the pickled object, <c>{archive}/data/{key}</c> the raw little-endian bytes of each storage, stored
/// uncompressed, which are read in place from a memory map. The pickle is read by <see cref="RestrictedUnpickler"/>
/// (no code runs). Tensors are found in the pickled dictionary: under <c>state_dict</c> when the top level has one
/// (Lightning <c>.ckpt</c> files), otherwise at the top level (diffusers <c>.bin</c> files); nested dictionaries give
/// dotted names.
/// </summary>
internal sealed class TorchCheckpoint : IWeightSource
{
    private readonly MappedFile file;
    private readonly Dictionary<string, (WeightInfo Info, TorchTensor Tensor, ZipEntry Entry)> tensors;
    private readonly List<string> names;

    private TorchCheckpoint(MappedFile file, List<string> names, Dictionary<string, (WeightInfo, TorchTensor, ZipEntry)> tensors,
        IReadOnlyDictionary<string, object?> extras)
    {
        this.file = file;
        this.names = names;
        this.tensors = tensors;
        Extras = extras;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => names;

    /// <inheritdoc />
    public string Origin => file.Path;

    /// <summary>Top-level entries that are not tensors (e.g. <c>global_step</c>: a long; strings; nested values).</summary>
    public IReadOnlyDictionary<string, object?> Extras { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="WeightFileException">Not a torch.save zip, damaged, or the pickle references a refused global.</exception>
    public static TorchCheckpoint Open(string path)
    {
        var file = new MappedFile(path);
        try
        {
            return Open(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static TorchCheckpoint Open(MappedFile file)
    {
        string path = file.Path;
        var entries = ZipDirectory.Read(file);
        var pickleEntry = entries.Values.Where(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal) && e.Name.IndexOf('/') == e.Name.Length - 9)
            .FirstOrDefault()
            ?? throw new WeightFileException($"'{path}' is a zip archive but not a PyTorch checkpoint: it has no '<archive>/data.pkl' entry.");
        string archive = pickleEntry.Name[..^"data.pkl".Length];
        if (entries.TryGetValue(archive + "byteorder", out var byteOrder))
        {
            string order = Encoding.ASCII.GetString(ReadEntry(file, byteOrder)).Trim();
            if (order != "little")
            {
                throw new WeightFileException($"'{path}' stores its tensors in '{order}'-endian byte order; only little-endian checkpoints are read. Re-save it on a little-endian machine.");
            }
        }
        object? root;
        try
        {
            root = RestrictedUnpickler.Load(ReadEntry(file, pickleEntry), PersistentLoad);
        }
        catch (PickleException ex)
        {
            throw new WeightFileException($"'{path}' cannot be read as a PyTorch checkpoint: {ex.Message}.", ex);
        }
        if (root is not PickleDict top)
        {
            throw new WeightFileException($"'{path}' holds a pickled {Describe(root)}, not a dictionary of tensors (a state dict).");
        }
        var weights = top.TryGet("state_dict", out var nested) && nested is PickleDict stateDict ? stateDict : top;
        var names = new List<string>();
        var tensors = new Dictionary<string, (WeightInfo, TorchTensor, ZipEntry)>(StringComparer.Ordinal);
        var extras = new Dictionary<string, object?>(StringComparer.Ordinal);
        Collect(weights, "");
        if (!ReferenceEquals(weights, top))
        {
            foreach (var (key, value) in top.Entries)
            {
                if (key is string k && k != "state_dict")
                {
                    extras[k] = value;
                }
            }
        }
        return new TorchCheckpoint(file, names, tensors, extras);

        void Collect(PickleDict dict, string prefix)
        {
            foreach (var (key, value) in dict.Entries)
            {
                string name = prefix + (key as string ?? key.ToString());
                switch (value)
                {
                    case TorchTensor t:
                        var info = new WeightInfo(name, t.Storage.DType, t.Shape);
                        var entry = entries.GetValueOrDefault(archive + "data/" + t.Storage.Key)
                            ?? throw new WeightFileException($"'{path}': tensor '{name}' refers to storage '{t.Storage.Key}', which the archive does not contain: the file is damaged.");
                        Validate(path, info, t, entry);
                        if (tensors.TryAdd(name, (info, t, entry)))
                        {
                            names.Add(name);
                        }
                        break;
                    case PickleDict inner:
                        Collect(inner, name + ".");
                        break;
                    default:
                        if (prefix.Length == 0)
                        {
                            extras[name] = value;
                        }
                        break;
                }
            }
        }

        object? PersistentLoad(object?[] id)
        {
            if (id.Length != 5 || id[0] is not "storage" || id[1] is not PickleGlobal type || id[2] is not string key || id[4] is not long numel)
            {
                throw new PickleException("a persistent id is not ('storage', type, key, location, numel)");
            }
            var dtype = type.Module == "torch" ? WeightDTypes.FromTorchStorageName(type.Name) : null;
            return dtype is { } d ? new TorchStorage(key, d, numel) : throw new PickleException($"storage type '{type}' is not supported");
        }
    }

    private static void Validate(string path, WeightInfo info, TorchTensor t, ZipEntry entry)
    {
        if (!entry.IsStored)
        {
            throw new WeightFileException($"'{path}': the storage of tensor '{info.Name}' is compressed in the zip (method {entry.Method}); torch.save stores storages uncompressed. Re-save the checkpoint with torch.save, or convert it to safetensors.");
        }
        int size = t.Storage.DType.Size();
        if (t.Storage.ElementCount < 0 || t.Storage.ElementCount * size > entry.Size)
        {
            throw new WeightFileException($"'{path}': storage '{t.Storage.Key}' declares {t.Storage.ElementCount:N0} {t.Storage.DType} values but its zip entry holds {entry.Size:N0} bytes: the file is damaged.");
        }
        if (t.Shape.Any(d => d < 0) || t.Stride.Any(s => s < 0) || t.StorageOffset < 0)
        {
            throw new WeightFileException($"'{path}': tensor '{info.Name}' has a negative size, stride or offset.");
        }
        if (info.ElementCount == 0)
        {
            return;
        }
        long last = t.StorageOffset;
        for (int i = 0; i < t.Shape.Length; i++)
        {
            last += (t.Shape[i] - 1) * t.Stride[i];
        }
        if (last >= t.Storage.ElementCount)
        {
            throw new WeightFileException($"'{path}': tensor '{info.Name}' {info.ShapeText} reaches element {last:N0} of a storage of {t.Storage.ElementCount:N0}: the file is damaged.");
        }
    }

    /// <inheritdoc />
    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <inheritdoc />
    public WeightInfo Info(string name) => Find(name).Info;

    /// <inheritdoc />
    public void ReadFloat32(string name, Span<float> destination)
    {
        var (info, t, entry) = Find(name);
        int size = info.DType.Size();
        long start = entry.DataOffset + t.StorageOffset * size;
        if (IsRowMajor(t.Shape, t.Stride))
        {
            WeightReading.ReadContiguous(file, start, info, destination, Origin);
            return;
        }
        WeightReading.CheckDestination(info, destination, Origin);
        // A view saved as is (e.g. a transposed weight): gather element by element in row-major order through the map,
        // then release the mapped pages so they stop counting as the process's memory.
        var index = new long[t.Shape.Length];
        long span = 1;
        for (int d = 0; d < t.Shape.Length; d++)
        {
            span += (t.Shape[d] - 1) * t.Stride[d];
        }
        for (int i = 0; i < destination.Length; i++)
        {
            long offset = 0;
            for (int d = 0; d < index.Length; d++)
            {
                offset += index[d] * t.Stride[d];
            }
            WeightConversion.ToFloat32(file.Span(start + offset * size, size), info.DType, destination.Slice(i, 1));
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d])
                {
                    break;
                }
                index[d] = 0;
            }
        }
        file.Release(start, span * size);
    }

    /// <inheritdoc />
    public void ReadFloat32Range(string name, long firstElement, Span<float> destination)
    {
        var (info, t, entry) = Find(name);
        if (!IsRowMajor(t.Shape, t.Stride))
        {
            if (firstElement < 0 || firstElement > info.ElementCount - destination.Length)
            {
                throw new WeightFileException($"'{Origin}': elements [{firstElement:N0}, {firstElement + destination.Length:N0}) lie outside tensor '{name}' {info.ShapeText}.");
            }
            var whole = new float[info.ElementCount];
            ReadFloat32(name, whole);
            whole.AsSpan(checked((int)firstElement), destination.Length).CopyTo(destination);
            return;
        }
        int size = info.DType.Size();
        WeightReading.ReadRange(file, entry.DataOffset + t.StorageOffset * size, info, firstElement, destination, Origin);
    }

    /// <inheritdoc />
    public void Dispose() => file.Dispose();

    private (WeightInfo Info, TorchTensor Tensor, ZipEntry Entry) Find(string name) =>
        tensors.TryGetValue(name, out var entry)
            ? entry
            : throw new WeightFileException($"'{Origin}' has no tensor named '{name}' ({tensors.Count} tensors).");

    private static bool IsRowMajor(long[] shape, long[] stride)
    {
        long expected = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && stride[d] != expected)
            {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    private static byte[] ReadEntry(MappedFile file, ZipEntry entry)
    {
        if (entry.Size > 1L << 30)
        {
            throw new WeightFileException($"'{file.Path}': zip entry '{entry.Name}' is {entry.Size:N0} bytes, too large for a pickle.");
        }
        var stored = file.Span(entry.DataOffset, checked((int)entry.CompressedSize));
        if (entry.IsStored)
        {
            return stored.ToArray();
        }
        if (entry.Method != 8)
        {
            throw new WeightFileException($"'{file.Path}': zip entry '{entry.Name}' uses compression method {entry.Method}, which is not supported.");
        }
        using var input = new MemoryStream(stored.ToArray());
        using var deflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        deflate.CopyTo(output);
        return output.ToArray();
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        TorchTensor => "single tensor",
        List<object?> => "list",
        object?[] => "tuple",
        _ => value.GetType().Name,
    };
}
