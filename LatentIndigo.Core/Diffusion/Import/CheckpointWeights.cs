using LatentIndigo.Diffusion.Architecture;
using LatentIndigo.Weights;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// The tensors of one component's checkpoint (diffusers/transformers names) as the SD graphs read them, after a check
/// that they are exactly the ones the architecture needs: every missing, unexpected or misshapen tensor is reported at
/// once, before anything is written. Accepts the VAE attention's older names (<c>query</c>/<c>key</c>/<c>value</c>/
/// <c>proj_attn</c>) and its 1×1-convolution form ([C, C, 1, 1] where a linear [C, C] is expected).
/// </summary>
internal sealed class CheckpointWeights : ISdWeights
{
    // Buffers some checkpoints carry that are not parameters (transformers' CLIP position ids).
    private static readonly string[] IgnoredSuffixes = ["embeddings.position_ids"];

    private static readonly (string Current, string Old)[] VaeAttentionNames =
        [(".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn.")];

    private readonly IWeightSource source;
    private readonly Dictionary<string, string> resolved = new(StringComparer.Ordinal);

    private CheckpointWeights(IWeightSource source) => this.source = source;

    /// <summary>Parameters the graphs will read.</summary>
    public long ParameterCount { get; private set; }

    /// <summary>Called after each tensor is read, with its element count (progress, cancellation).</summary>
    public Action<long>? TensorRead { get; set; }

    /// <summary>
    /// Matches <paramref name="source"/> against the architecture's <paramref name="parameters"/>; adds one problem per
    /// mismatch to <paramref name="problems"/> (prefixed with <paramref name="component"/>) and returns the weights.
    /// </summary>
    public static CheckpointWeights Match(IWeightSource source, string component, IReadOnlyList<(string Name, long[] Shape)> parameters, List<string> problems)
    {
        var weights = new CheckpointWeights(source);
        var missing = new List<string>();
        foreach (var (name, shape) in parameters)
        {
            var found = Candidates(name).FirstOrDefault(source.Contains);
            if (found is null)
            {
                missing.Add(name);
                continue;
            }
            var info = source.Info(found);
            if (!Fits(info.Shape, shape))
            {
                problems.Add($"{component}: {found} is {info.ShapeText}, the architecture needs [{string.Join(", ", shape)}].");
            }
            else if (!info.DType.IsFloatingPoint())
            {
                problems.Add($"{component}: {found} holds {info.DType} values, not floating point.");
            }
            weights.resolved[name] = found;
            weights.ParameterCount += shape.Aggregate(1L, (p, d) => p * d);
        }
        if (missing.Count > 0)
        {
            problems.Add($"{component}: {missing.Count} tensor{(missing.Count == 1 ? " is" : "s are")} missing: {List(missing)}.");
        }
        var used = new HashSet<string>(weights.resolved.Values, StringComparer.Ordinal);
        var unexpected = source.Names.Where(n => !used.Contains(n) && !IgnoredSuffixes.Any(s => n.EndsWith(s, StringComparison.Ordinal))).ToList();
        if (unexpected.Count > 0)
        {
            problems.Add($"{component}: {unexpected.Count} tensor{(unexpected.Count == 1 ? " is" : "s are")} not part of the architecture: {List(unexpected)}.");
        }
        return weights;
    }

    /// <inheritdoc />
    public float[] Read(string name, long[] shape, SdTensorRole role)
    {
        if (!resolved.TryGetValue(name, out var found))
        {
            // Match() has reported every missing tensor before any graph is written; this is a programming error.
            throw new InvalidOperationException($"'{name}' was not matched in {source.Origin}.");
        }
        long count = shape.Aggregate(1L, (p, d) => p * d);
        var values = GC.AllocateUninitializedArray<float>(checked((int)count)); // every element is overwritten
        source.ReadFloat32(found, values);
        TensorRead?.Invoke(count);
        return values;
    }

    private static IEnumerable<string> Candidates(string name)
    {
        yield return name;
        if (name.Contains(".mid_block.attentions.0.", StringComparison.Ordinal))
        {
            foreach (var (current, old) in VaeAttentionNames)
            {
                if (name.Contains(current, StringComparison.Ordinal))
                {
                    yield return name.Replace(current, old, StringComparison.Ordinal);
                }
            }
        }
    }

    // Equal shapes, or a 1×1 convolution [out, in, 1, 1] where a linear [out, in] is expected (same values, same order).
    private static bool Fits(long[] actual, long[] expected) =>
        actual.SequenceEqual(expected)
        || (expected.Length == 2 && actual.Length == 4 && actual[0] == expected[0] && actual[1] == expected[1] && actual[2] == 1 && actual[3] == 1);

    private static string List(List<string> names) =>
        string.Join(", ", names.Take(8)) + (names.Count > 8 ? $", … ({names.Count - 8} more)" : "");
}
