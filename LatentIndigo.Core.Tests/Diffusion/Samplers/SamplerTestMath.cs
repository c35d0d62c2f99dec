using LatentIndigo.Diffusion;
using Xunit;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Diffusion.Samplers;

/// <summary>Float64 re-derivations of the published schedule formulas, written independently of the library.</summary>
internal static class SamplerTestMath
{
    public static double[] ScaledLinearAlphasCumprod(int T, double b0, double b1)
    {
        var a = new double[T];
        double prod = 1;
        for (int i = 0; i < T; i++)
        {
            double s = Math.Sqrt(b0) + (Math.Sqrt(b1) - Math.Sqrt(b0)) * i / (T - 1);
            prod *= 1 - s * s;
            a[i] = prod;
        }
        return a;
    }

    public static double[] LinearAlphasCumprod(int T, double b0, double b1)
    {
        var a = new double[T];
        double prod = 1;
        for (int i = 0; i < T; i++)
        {
            prod *= 1 - (b0 + (b1 - b0) * i / (T - 1));
            a[i] = prod;
        }
        return a;
    }

    public static double[] Values(Tensor t) => t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    public static Tensor Randn(long seed, params long[] shape)
    {
        using var g = new Generator((ulong)seed);
        return torch.randn(shape, ScalarType.Float64, generator: g);
    }

    public static void AllClose(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    public static SchedulerConfig Sd15(Action<SchedulerConfig>? edit = null)
    {
        var c = new SchedulerConfig
        {
            NumTrainTimesteps = 1000, BetaStart = 0.00085, BetaEnd = 0.012, BetaSchedule = new BetaSchedule("scaled_linear"),
            PredictionType = new PredictionType("epsilon"), TimestepSpacing = new TimestepSpacing("leading"), StepsOffset = 1, SetAlphaToOne = false,
        };
        edit?.Invoke(c);
        return c;
    }
}
