using LatentIndigo.Invertible;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>Shared helpers: deterministic random weights from a per-test generator (seeds are process-global).</summary>
internal static class InnTestHelpers
{
    /// <summary>
    /// Every parameter ← N(0, (scale/√fan-in)²) from <paramref name="generator"/> (biases use fan-in 1), so outputs depend
    /// on all weights while activations keep a sane magnitude through the stacked lifting steps.
    /// </summary>
    public static void RandomizeWeights(nn.Module module, Generator generator, double scale = 0.5)
    {
        using var noGrad = no_grad();
        foreach (var p in module.parameters())
        {
            long fanIn = p.dim() > 1 ? p.numel() / p.shape[0] : 1;
            using var r = randn(p.shape, dtype: float64, generator: generator);
            p.copy_(r * (scale / Math.Sqrt(fanIn)));
        }
    }

    public static LiftingInn RandomInn(LiftingInnOptions options, long seed, double scale = 0.5)
    {
        var inn = new LiftingInn(options);
        using var g = new Generator((ulong)seed);
        RandomizeWeights(inn, g, scale);
        return inn;
    }

    public static double MaxAbs(Tensor a, Tensor b)
    {
        using var d = (a - b).abs().max();
        return d.ToDouble();
    }

    public static string TempPath(string extension)
    {
        var dir = Path.Combine(Path.GetTempPath(), "latentindigo-tests");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, Guid.NewGuid().ToString("N") + extension);
    }
}
