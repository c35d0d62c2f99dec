using System.Reflection;

namespace LatentIndigo.Invertible;

/// <summary>The pixel INNs shipped inside LatentIndigo.Core, trained with <c>latent-indigo train-inn</c> (see docs/inn-training.md).</summary>
public enum BundledInnWeights
{
    /// <summary>Imitates MATLAB bicubic ×4 downscaling (<c>bicubic:x4</c>).</summary>
    BicubicX4,

    /// <summary>Imitates the Real-ESRGAN random second-order ×4 degradation on average (<c>realesrgan:x4</c>).</summary>
    RealWorldX4,
}

/// <summary>Loads the INN weights embedded in the library, so INN-only restoration works without any download.</summary>
public static class BundledInn
{
    /// <summary>The short names accepted by <see cref="TryParse"/> (and the CLI's <c>--inn</c>).</summary>
    public static IReadOnlyList<string> Names { get; } = ["bicubic-x4", "realworld-x4"];

    /// <summary>Loads a bundled network (float32, CPU) with its options and metadata.</summary>
    /// <exception cref="InnWeightsException">The weights are not embedded in this build.</exception>
    public static LiftingInn Load(BundledInnWeights weights)
    {
        var name = ResourceName(weights);
        var assembly = typeof(BundledInn).Assembly;
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InnWeightsException($"The bundled INN '{Names[(int)weights]}' is not embedded in this build of LatentIndigo.Core (resource {name}).");
        return LiftingInn.Load(stream, Names[(int)weights]);
    }

    /// <summary>Maps a short name such as <c>bicubic-x4</c> (case-insensitive) to the enum.</summary>
    public static bool TryParse(string name, out BundledInnWeights weights)
    {
        for (int i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                weights = (BundledInnWeights)i;
                return true;
            }
        }
        weights = default;
        return false;
    }

    private static string ResourceName(BundledInnWeights weights) => $"LatentIndigo.Invertible.Weights.inn-pixel-{Names[(int)weights]}.inn";
}
