using LatentIndigo.Weights;

namespace LatentIndigo.Diffusion.Import;

/// <summary>Where one tensor of a <see cref="RenamedWeightSource"/> comes from in the underlying file.</summary>
/// <param name="Source">The tensor's name in the file.</param>
/// <param name="Shape">The shape the view reports (a 1×1 convolution kernel [C, C, 1, 1] seen as a linear [C, C], say).</param>
/// <param name="RowStart">For a slice along the first axis (OpenCLIP's fused q/k/v in_proj): the first row; 0 otherwise.</param>
internal sealed record TensorSourceMapping(string Source, long[] Shape, long RowStart = 0);

/// <summary>
/// A view of a weight file under other names: each name maps to a file tensor read as is, reshaped (same element count
/// and order) or sliced along its first axis. Disposing the view leaves the file open (its owner closes it).
/// </summary>
internal sealed class RenamedWeightSource : IWeightSource
{
    private readonly IWeightSource file;
    private readonly Dictionary<string, TensorSourceMapping> map;
    private readonly List<string> names;

    public RenamedWeightSource(IWeightSource file, IEnumerable<KeyValuePair<string, TensorSourceMapping>> mappings, string description)
    {
        this.file = file;
        map = new Dictionary<string, TensorSourceMapping>(StringComparer.Ordinal);
        names = [];
        foreach (var (name, mapping) in mappings)
        {
            map.Add(name, mapping);
            names.Add(name);
        }
        Origin = $"{description} of '{file.Origin}'";
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => names;

    /// <inheritdoc />
    public string Origin { get; }

    /// <summary>The file tensor a view name comes from (for messages and tests).</summary>
    public TensorSourceMapping MappingOf(string name) => Find(name);

    /// <inheritdoc />
    public bool Contains(string name) => map.ContainsKey(name);

    /// <inheritdoc />
    public WeightInfo Info(string name) => new(name, file.Info(Find(name).Source).DType, Find(name).Shape);

    /// <inheritdoc />
    public void ReadFloat32(string name, Span<float> destination)
    {
        var m = Find(name);
        var source = file.Info(m.Source);
        long count = m.Shape.Aggregate(1L, (n, d) => n * d);
        if (destination.Length != count)
        {
            throw new WeightFileException($"{Origin}: tensor '{name}' has {count:N0} values but {destination.Length:N0} were asked for.");
        }
        if (count == source.ElementCount && m.RowStart == 0)
        {
            file.ReadFloat32(m.Source, destination);
            return;
        }
        // A row slice (one third of OpenCLIP's fused in_proj): only its rows are read.
        long rowLength = source.Shape.Length == 0 || source.Shape[0] == 0 ? 0 : source.ElementCount / source.Shape[0];
        file.ReadFloat32Range(m.Source, m.RowStart * rowLength, destination);
    }

    /// <summary>Nothing to release: the underlying file belongs to whoever created the view.</summary>
    public void Dispose()
    {
    }

    private TensorSourceMapping Find(string name) =>
        map.TryGetValue(name, out var m) ? m : throw new WeightFileException($"{Origin} has no tensor named '{name}' ({map.Count} tensors).");
}
