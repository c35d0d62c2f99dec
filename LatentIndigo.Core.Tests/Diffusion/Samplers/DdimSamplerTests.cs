using Xunit;
using LatentIndigo.Diffusion;
using TorchSharp;
using static LatentIndigo.Tests.Diffusion.Samplers.SamplerTestMath;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Diffusion.Samplers;

public class DdimSamplerTests
{
    [Fact]
    public void AlphasCumprod_ScaledLinear_MatchesProductFormula()
    {
        using var s = new DdimSampler(Sd15());
        var expected = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        AllClose(expected, s.AlphasCumprod.ToArray(), 1e-12);
        // Published SD values quoted in algorithm.md §7 #4: ᾱ_400 ≈ 0.42, ᾱ_500 ≈ 0.28, ᾱ_600 ≈ 0.16.
        Assert.Equal(0.42, expected[400], 2);
        Assert.Equal(0.28, expected[500], 2);
        Assert.Equal(0.16, expected[600], 2);
    }

    [Fact]
    public void AlphasCumprod_Linear_MatchesIndigoPlusValue()
    {
        using var s = new DdimSampler(new SchedulerConfig { BetaSchedule = BetaSchedule.Linear, BetaStart = 1e-4, BetaEnd = 0.02 });
        var a = s.AlphasCumprod.ToArray();
        AllClose(LinearAlphasCumprod(1000, 1e-4, 0.02), a, 1e-12);
        Assert.Equal(0.19357, a[400], 4); // quoted in algorithm.md §4.1 for INDIGO+ at t = 400
    }

    [Theory]
    [InlineData("leading", 1, 4, new[] { 751, 501, 251, 1 })]
    [InlineData("leading", 0, 4, new[] { 750, 500, 250, 0 })]
    [InlineData("trailing", 1, 3, new[] { 999, 666, 332 })]
    [InlineData("trailing", 1, 4, new[] { 999, 749, 499, 249 })]
    [InlineData("linspace", 1, 4, new[] { 999, 666, 333, 0 })]
    public void Timesteps_FollowSpacing(string spacing, int offset, int steps, int[] expected)
    {
        using var s = new DdimSampler(Sd15(c => { c.TimestepSpacing = new TimestepSpacing(spacing); c.StepsOffset = offset; }));
        s.SetTimesteps(steps);
        Assert.Equal(expected, s.Timesteps);
    }

    [Theory]
    [InlineData("leading", 50)]
    [InlineData("trailing", 50)]
    [InlineData("linspace", 50)]
    [InlineData("trailing", 7)]
    [InlineData("linspace", 7)]
    public void Timesteps_MatchClosedForms(string spacing, int n)
    {
        using var s = new DdimSampler(Sd15(c => c.TimestepSpacing = new TimestepSpacing(spacing)));
        s.SetTimesteps(n);
        var expected = new int[n];
        for (int k = 0; k < n; k++)
        {
            expected[k] = spacing switch
            {
                "leading" => (n - 1 - k) * (1000 / n) + 1,
                "trailing" => (int)Math.Round(1000 - k * 1000.0 / n, MidpointRounding.ToEven) - 1,
                _ => (int)Math.Round(999.0 * (n - 1 - k) / (n - 1), MidpointRounding.ToEven),
            };
        }
        Assert.Equal(expected, s.Timesteps);
    }

    [Theory]
    [InlineData("epsilon", 0.0)]
    [InlineData("v_prediction", 0.0)]
    [InlineData("epsilon", 0.5)]
    [InlineData("v_prediction", 1.0)]
    [InlineData("sample", 0.3)]
    public void Step_MatchesDdimFormula(string prediction, double eta)
    {
        using var s = new DdimSampler(Sd15(c => c.PredictionType = new PredictionType(prediction)));
        s.SetTimesteps(50);
        int t = s.Timesteps[10];
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        using var x = Randn(1, 1, 4, 3, 5);
        using var m = Randn(2, 1, 4, 3, 5);
        using var xi = Randn(3, 1, 4, 3, 5);
        using var r = s.Step(m, t, x, eta, xi);

        double aT = a[t], aP = a[t - 20];
        double sigma = eta * Math.Sqrt((1 - aP) / (1 - aT)) * Math.Sqrt(1 - aT / aP);
        var xs = Values(x); var ms = Values(m); var ns = Values(xi);
        var ex0 = new double[xs.Length]; var exPrev = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            double x0, e;
            switch (prediction)
            {
                case "epsilon": e = ms[i]; x0 = (xs[i] - Math.Sqrt(1 - aT) * e) / Math.Sqrt(aT); break;
                case "v_prediction": x0 = Math.Sqrt(aT) * xs[i] - Math.Sqrt(1 - aT) * ms[i]; e = Math.Sqrt(aT) * ms[i] + Math.Sqrt(1 - aT) * xs[i]; break;
                default: x0 = ms[i]; e = (xs[i] - Math.Sqrt(aT) * x0) / Math.Sqrt(1 - aT); break;
            }
            ex0[i] = x0;
            exPrev[i] = Math.Sqrt(aP) * x0 + Math.Sqrt(1 - aP - sigma * sigma) * e + sigma * ns[i];
        }
        AllClose(ex0, Values(r.PredictedOriginal), 1e-10);
        AllClose(exPrev, Values(r.PrevSample), 1e-10);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LastStep_UsesFinalAlpha(bool setAlphaToOne)
    {
        using var s = new DdimSampler(Sd15(c => c.SetAlphaToOne = setAlphaToOne));
        s.SetTimesteps(10);
        int t = s.Timesteps[^1];
        Assert.Equal(1, t);
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        using var x = Randn(4, 2, 4, 2, 2);
        using var m = Randn(5, 2, 4, 2, 2);
        using var xi = Randn(6, 2, 4, 2, 2);
        using var r = s.Step(m, t, x, 0.7, xi);
        double aT = a[t], aP = setAlphaToOne ? 1.0 : a[0];
        double sigma = 0.7 * Math.Sqrt((1 - aP) / (1 - aT) * (1 - aT / aP));
        var xs = Values(x); var ms = Values(m); var ns = Values(xi);
        var expected = xs.Select((xv, i) =>
        {
            double x0 = (xv - Math.Sqrt(1 - aT) * ms[i]) / Math.Sqrt(aT);
            return Math.Sqrt(aP) * x0 + Math.Sqrt(1 - aP - sigma * sigma) * ms[i] + sigma * ns[i];
        }).ToArray();
        AllClose(expected, Values(r.PrevSample), 1e-10);
        if (setAlphaToOne)
        {
            AllClose(Values(r.PredictedOriginal), Values(r.PrevSample), 1e-12); // ᾱ_prev = 1: x_prev is ẑ0 exactly
        }
    }

    [Fact]
    public void ClipSample_ClampsPredictedOriginal_ButUpdateUsesModelEpsilon()
    {
        using var s = new DdimSampler(Sd15(c => { c.ClipSample = true; c.ClipSampleRange = 0.5; }));
        s.SetTimesteps(20);
        int t = s.Timesteps[3];
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        using var x = Randn(7, 1, 4, 4, 4) * 2;
        using var m = Randn(8, 1, 4, 4, 4);
        using var r = s.Step(m, t, x, 0, null);
        double aT = a[t], aP = a[t - 50];
        var xs = Values(x); var ms = Values(m);
        var x0 = xs.Select((xv, i) => Math.Clamp((xv - Math.Sqrt(1 - aT) * ms[i]) / Math.Sqrt(aT), -0.5, 0.5)).ToArray();
        AllClose(x0, Values(r.PredictedOriginal), 1e-10);
        var prev = x0.Select((v, i) => Math.Sqrt(aP) * v + Math.Sqrt(1 - aP) * ms[i]).ToArray();
        AllClose(prev, Values(r.PrevSample), 1e-10);
    }

    [Fact]
    public void ExactNoisePrediction_StaysOnTheForwardTrajectory()
    {
        // If the model returns the very ε that noised x0, deterministic DDIM lands on √ᾱ_prev·x0 + √(1−ᾱ_prev)·ε.
        using var s = new DdimSampler(Sd15());
        s.SetTimesteps(25);
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        using var x0 = Randn(9, 1, 4, 8, 8);
        using var eps = Randn(10, 1, 4, 8, 8);
        var x = s.AddNoise(x0, eps, s.Timesteps[0]);
        AllClose(Values(x0 * Math.Sqrt(a[s.Timesteps[0]]) + eps * Math.Sqrt(1 - a[s.Timesteps[0]])), Values(x), 1e-12);
        foreach (var t in s.Timesteps)
        {
            using var r = s.Step(eps, t, x, 0, null);
            x.Dispose();
            x = r.PrevSample.clone();
            AllClose(Values(x0), Values(r.PredictedOriginal), 1e-9);
        }
        AllClose(Values(x0 * Math.Sqrt(a[0]) + eps * Math.Sqrt(1 - a[0])), Values(x), 1e-9);
        x.Dispose();
    }

    [Fact]
    public void GuidanceHook_ReplacedOriginal_RecomputesOrKeepsEpsilon()
    {
        using var s = new DdimSampler(Sd15());
        s.SetTimesteps(50);
        int t = s.Timesteps[5];
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        double aT = a[t], aP = a[t - 20], eta = 0.5;
        double sigma = eta * Math.Sqrt((1 - aP) / (1 - aT) * (1 - aT / aP));
        using var x = Randn(11, 1, 4, 3, 3);
        using var m = Randn(12, 1, 4, 3, 3);
        using var xi = Randn(13, 1, 4, 3, 3);
        using var p = s.PredictOriginal(m, t, x);
        using var guided = p.PredictedOriginal - 0.1; // the caller's replacement ẑ0
        using var recomputed = s.StepFromOriginal(guided, t, x, eta, xi);
        using var kept = s.StepFromOriginal(guided, t, x, eta, xi, p.PredictedNoise);
        Assert.Same(guided, recomputed.PredictedOriginal);
        var xs = Values(x); var ms = Values(m); var ns = Values(xi); var z0 = Values(guided);
        var expRe = z0.Select((z, i) =>
        {
            double e = (xs[i] - Math.Sqrt(aT) * z) / Math.Sqrt(1 - aT);
            return Math.Sqrt(aP) * z + Math.Sqrt(1 - aP - sigma * sigma) * e + sigma * ns[i];
        }).ToArray();
        var expKept = z0.Select((z, i) => Math.Sqrt(aP) * z + Math.Sqrt(1 - aP - sigma * sigma) * ms[i] + sigma * ns[i]).ToArray();
        AllClose(expRe, Values(recomputed.PrevSample), 1e-10);
        AllClose(expKept, Values(kept.PrevSample), 1e-10);
    }

    [Fact]
    public void Float32Samples_StayFloat32_AndAgree()
    {
        using var s = new DdimSampler(Sd15());
        s.SetTimesteps(50);
        using var x = Randn(14, 1, 4, 4, 4);
        using var m = Randn(15, 1, 4, 4, 4);
        using var r64 = s.Step(m, 501, x, 0, null);
        using var x32 = x.to_type(ScalarType.Float32);
        using var m32 = m.to_type(ScalarType.Float32);
        using var r32 = s.Step(m32, 501, x32, 0, null);
        Assert.Equal(ScalarType.Float32, r32.PrevSample.dtype);
        AllClose(Values(r64.PrevSample), Values(r32.PrevSample), 1e-5);
    }

    [Fact]
    public void Img2Img_StartsFromIntermediateTimestep()
    {
        using var s = new DdimSampler(Sd15());
        s.SetTimesteps(50);
        Assert.Equal(s.Timesteps.Skip(25), s.TimestepsForStrength(0.5));
        Assert.Equal(s.Timesteps, s.TimestepsForStrength(1.0));
        var from = s.TimestepsFrom(569);
        Assert.Equal(561, from[0]);
        Assert.Equal(1, from[^1]);
        Assert.Equal(s.Timesteps.SkipWhile(t => t > 569), from);
    }

    [Fact]
    public void BadArguments_AreRejectedWithClearMessages()
    {
        using var s = new DdimSampler(Sd15());
        using var x = Randn(1, 1, 4, 2, 2);
        using var wrong = Randn(1, 1, 4, 2, 3);
        Assert.Throws<InvalidOperationException>(() => s.Step(x, 1, x, 0, null));
        s.SetTimesteps(10);
        var e = Assert.Throws<ArgumentException>(() => s.Step(wrong, 1, x, 0, null));
        Assert.Contains("shape", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x, 1000, x, 0, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x, 1, x, -1, null));
        Assert.Throws<LatentIndigoException>(() => s.SetTimesteps(0));
        Assert.Throws<LatentIndigoException>(() => new SchedulerConfig { BetaSchedule = new BetaSchedule("cosine") });
    }
}
