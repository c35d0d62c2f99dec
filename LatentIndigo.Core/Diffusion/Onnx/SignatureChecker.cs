using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Checks a session's inputs and outputs against the export contract, reading names, ranks and element types from
/// the session metadata, and adds one readable sentence per problem to a shared list.
/// </summary>
internal sealed class SignatureChecker
{
    private readonly ModelSession session;
    private readonly List<string> problems;

    public SignatureChecker(ModelSession session, List<string> problems)
    {
        this.session = session;
        this.problems = problems;
    }

    private string File => $"{session.Name}/model.onnx";

    public NodeMetadata? Input(string name, int[] ranks, string shapeHint, params TensorElementType[] types) =>
        Check(session.Inputs, "input", name, ranks, shapeHint, types);

    public NodeMetadata? Output(string name, int[] ranks, string shapeHint, params TensorElementType[] types) =>
        Check(session.Outputs, "output", name, ranks, shapeHint, types);

    /// <summary>The first of <paramref name="names"/> that exists as an output, checked; a problem if none does.</summary>
    public (string Name, NodeMetadata Meta)? OneOfOutputs(string[] names, int[] ranks, string shapeHint, params TensorElementType[] types)
    {
        foreach (var n in names)
        {
            if (session.Outputs.ContainsKey(n))
            {
                var m = Output(n, ranks, shapeHint, types);
                return m is null ? null : (n, m);
            }
        }
        problems.Add($"{File}: has no output named {string.Join(" or ", names.Select(n => $"'{n}'"))} (outputs are: {string.Join(", ", session.Outputs.Keys)}).");
        return null;
    }

    /// <summary>Reports inputs the contract does not have (they could not be fed).</summary>
    public void NoOtherInputs(params string[] expected)
    {
        foreach (var name in session.Inputs.Keys)
        {
            if (!expected.Contains(name))
            {
                problems.Add($"{File}: unexpected input '{name}' (the contract has {string.Join(", ", expected)}).");
            }
        }
    }

    public void Problem(string sentence) => problems.Add($"{File}: {sentence}");

    /// <summary>A static dimension, or null when symbolic.</summary>
    public static int? StaticDim(NodeMetadata meta, int index) =>
        index < meta.Dimensions.Length && meta.Dimensions[index] > 0 ? meta.Dimensions[index] : null;

    public static string TypeName(TensorElementType t) => t switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        TensorElementType.Double => "float64",
        _ => t.ToString(),
    };

    private NodeMetadata? Check(IReadOnlyDictionary<string, NodeMetadata> all, string kind, string name, int[] ranks,
        string shapeHint, TensorElementType[] types)
    {
        if (!all.TryGetValue(name, out var meta))
        {
            problems.Add($"{File}: {kind} '{name}' is missing ({kind}s are: {string.Join(", ", all.Keys)}).");
            return null;
        }
        bool ok = true;
        if (!meta.IsTensor)
        {
            problems.Add($"{File}: {kind} '{name}' is not a tensor.");
            return null;
        }
        if (!ranks.Contains(meta.Dimensions.Length))
        {
            problems.Add($"{File}: {kind} '{name}' has rank {meta.Dimensions.Length}; expected {shapeHint}.");
            ok = false;
        }
        if (!types.Contains(meta.ElementDataType))
        {
            problems.Add($"{File}: {kind} '{name}' is {TypeName(meta.ElementDataType)}; expected {string.Join(" or ", types.Select(TypeName))}.");
            ok = false;
        }
        return ok ? meta : null;
    }
}
