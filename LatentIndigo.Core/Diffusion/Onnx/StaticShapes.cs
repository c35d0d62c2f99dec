using Microsoft.ML.OnnxRuntime;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Static input sizes of a model (Olive's fixed-shape exports, NPU exports): a batch dimension or a spatial dimension
/// given as a number instead of a symbolic name. Channel and width dimensions are static in every export and do not count.
/// </summary>
internal static class StaticShapes
{
    /// <summary>
    /// True when an input of rank ≥ 2 has a static batch (index 0), or a rank-4 input a static height or width. A rank-1
    /// input (the UNet's timestep, which some dynamic exports declare as [1]) does not count.
    /// </summary>
    public static bool HasStaticSizes(IReadOnlyDictionary<string, NodeMetadata> inputs) =>
        inputs.Values.Any(m => m.IsTensor && m.Dimensions.Length >= 2
            && (m.Dimensions[0] > 0 || (m.Dimensions.Length == 4 && (m.Dimensions[2] > 0 || m.Dimensions[3] > 0))));

    /// <summary>"sample [1,4,64,64], timestep [1]" for every input (symbolic dimensions by name); null without static sizes.</summary>
    public static string? Describe(IReadOnlyDictionary<string, NodeMetadata> inputs) =>
        HasStaticSizes(inputs) ? string.Join(", ", inputs.Select(kv => $"{kv.Key} {Shape(kv.Value)}")) : null;

    /// <summary>A shape as "[1,4,height,width]".</summary>
    public static string Shape(NodeMetadata meta)
    {
        var dims = new string[meta.Dimensions.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            var symbol = i < meta.SymbolicDimensions.Length ? meta.SymbolicDimensions[i] : "";
            dims[i] = meta.Dimensions[i] > 0 ? meta.Dimensions[i].ToString(System.Globalization.CultureInfo.InvariantCulture)
                : symbol.Length > 0 ? symbol : "?";
        }
        return "[" + string.Join(",", dims) + "]";
    }

    /// <summary>A static dimension, or null when symbolic or absent.</summary>
    public static int? Dim(NodeMetadata? meta, int index) =>
        meta is not null && index < meta.Dimensions.Length && meta.Dimensions[index] > 0 ? meta.Dimensions[index] : null;
}
