using LatentIndigo.Tests.Diffusion.StandIns;

namespace LatentIndigo.Tests.Diffusion.Import;

/// <summary>
/// The float64 references of a <see cref="TinyDiffusersFolder"/> (kept apart from it: that file is shared with
/// LatentIndigo.Web.Tests, which has no <see cref="SdArchitectureReference"/>).
/// </summary>
internal static class TinyDiffusersFolderReferences
{
    /// <summary>The float64 reference of the model with the checkpoint's values.</summary>
    public static SdArchitectureReference Reference(this TinyDiffusersFolder folder) => new(folder.Architecture, folder.Weights);

    /// <summary>The same weights rounded to float16, as an fp16 import stores them.</summary>
    public static SdArchitectureReference Float16Reference(this TinyDiffusersFolder folder) =>
        new(folder.Architecture, folder.Weights.ToDictionary(kv => kv.Key, kv => (kv.Value.Shape, kv.Value.Values.Select(x => (double)(float)(Half)(float)x).ToArray())));
}
