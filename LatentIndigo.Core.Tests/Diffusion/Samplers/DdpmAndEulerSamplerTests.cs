using Xunit;
using LatentIndigo.Diffusion;
using static LatentIndigo.Tests.Diffusion.Samplers.SamplerTestMath;

namespace LatentIndigo.Tests.Diffusion.Samplers;

public class DdpmAndEulerSamplerTests
{
    [Theory]
    [InlineData(1.0, 4)]
    [InlineData(0.0, 3)]
    [InlineData(1.0, 9)] // last step: ᾱ_prev = 1, no noise
    public void Ddpm_MatchesPosteriorCoefficientForm(double eta, int index)
    {
        using var s = new DdpmSampler(Sd15());
        s.SetTimesteps(10);
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        int t = s.Timesteps[index];
        double aT = a[t], aP = index + 1 < 10 ? a[s.Timesteps[index + 1]] : 1.0;
        double curAlpha = aT / aP, curBeta = 1 - curAlpha;
        double cx0 = Math.Sqrt(aP) * curBeta / (1 - aT), cxt = Math.Sqrt(curAlpha) * (1 - aP) / (1 - aT);
        double std = t > 0 ? eta * Math.Sqrt(Math.Max((1 - aP) / (1 - aT) * curBeta, 1e-20)) : 0;
        using var x = Randn(21, 1, 4, 3, 3);
        using var m = Randn(22, 1, 4, 3, 3);
        using var xi = Randn(23, 1, 4, 3, 3);
        using var r = s.Step(m, t, x, eta, xi);
        var xs = Values(x); var ms = Values(m); var ns = Values(xi);
        var expected = xs.Select((xv, i) =>
        {
            double x0 = (xv - Math.Sqrt(1 - aT) * ms[i]) / Math.Sqrt(aT);
            return cx0 * x0 + cxt * xv + std * ns[i];
        }).ToArray();
        AllClose(expected, Values(r.PrevSample), 1e-9);
    }

    [Theory]
    [InlineData("epsilon", 1.0, "leading")]
    [InlineData("epsilon", 0.0, "trailing")]
    [InlineData("v_prediction", 1.0, "linspace")]
    public void EulerAncestral_MatchesKarrasFormulas(string prediction, double eta, string spacing)
    {
        using var s = new EulerAncestralSampler(Sd15(c => { c.PredictionType = new PredictionType(prediction); c.TimestepSpacing = new TimestepSpacing(spacing); }));
        s.SetTimesteps(20);
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        double Sigma(int t) => Math.Sqrt((1 - a[t]) / a[t]);
        double maxSigma = Sigma(s.Timesteps[0]);
        Assert.Equal(spacing == "leading" ? Math.Sqrt(maxSigma * maxSigma + 1) : maxSigma, s.InitNoiseSigma, 12);

        int i = 7, t = s.Timesteps[i];
        double sg = Sigma(t), sn = Sigma(s.Timesteps[i + 1]);
        double up = Math.Min(sn, eta * Math.Sqrt(sn * sn * (sg * sg - sn * sn) / (sg * sg)));
        double down = Math.Sqrt(sn * sn - up * up);
        using var x = Randn(31, 1, 4, 3, 3) * sg;
        using var m = Randn(32, 1, 4, 3, 3);
        using var xi = Randn(33, 1, 4, 3, 3);
        using var scaled = s.ScaleModelInput(x, t);
        AllClose(Values(x).Select(v => v / Math.Sqrt(sg * sg + 1)).ToArray(), Values(scaled), 1e-12);
        using var r = s.Step(m, t, x, eta, xi);
        var xs = Values(x); var ms = Values(m); var ns = Values(xi);
        var expected = xs.Select((xv, k) =>
        {
            double x0 = prediction == "epsilon" ? xv - sg * ms[k] : ms[k] * (-sg / Math.Sqrt(sg * sg + 1)) + xv / (sg * sg + 1);
            double d = (xv - x0) / sg;
            return xv + d * (down - sg) + up * ns[k];
        }).ToArray();
        AllClose(expected, Values(r.PrevSample), 1e-9);
    }

    [Fact]
    public void EulerAncestral_LastStepLandsOnPredictedOriginal()
    {
        using var s = new EulerAncestralSampler(Sd15());
        s.SetTimesteps(5);
        using var x = Randn(41, 1, 4, 2, 2);
        using var m = Randn(42, 1, 4, 2, 2);
        using var r = s.Step(m, s.Timesteps[^1], x, 1.0, null);
        AllClose(Values(r.PredictedOriginal), Values(r.PrevSample), 1e-12); // σ_next = 0: no noise, full step to ẑ0
    }

    [Fact]
    public void EulerAncestral_AddNoiseIsVarianceExploding()
    {
        using var s = new EulerAncestralSampler(Sd15());
        s.SetTimesteps(5);
        var a = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        using var x0 = Randn(43, 1, 4, 2, 2);
        using var n = Randn(44, 1, 4, 2, 2);
        using var z = s.AddNoise(x0, n, 600);
        double sg = Math.Sqrt((1 - a[600]) / a[600]);
        AllClose(Values(x0).Select((v, i) => v + sg * Values(n)[i]).ToArray(), Values(z), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x0, 600, x0, 1, null)); // not an inference timestep
    }

    [Fact]
    public void SchedulerConfig_ParsesDiffusersJson()
    {
        var c = SchedulerConfig.Parse("""
            { "_class_name": "DDIMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
              "clip_sample": false, "num_train_timesteps": 1000, "prediction_type": "v_prediction", "set_alpha_to_one": false,
              "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null, "timestep_spacing": "trailing" }
            """);
        Assert.Equal(PredictionType.VPrediction, c.PredictionType);
        Assert.Equal(TimestepSpacing.Trailing, c.TimestepSpacing);
        Assert.Equal("DDIMScheduler", c.ClassName);
        Assert.Equal(1, c.StepsOffset);
        Assert.Contains("must be an integer", Assert.Throws<LatentIndigoException>(() => SchedulerConfig.Parse("""{"steps_offset": "x"}""")).Message);
        Assert.Contains("prediction_type", Assert.Throws<LatentIndigoException>(() => SchedulerConfig.Parse("""{"prediction_type": "flow"}""")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<LatentIndigoException>(() => SchedulerConfig.Parse("{")).Message);
    }

    [Fact]
    public void ZeroTerminalSnr_EndsAtAlphaZero()
    {
        using var s = new DdimSampler(Sd15(c => c.RescaleBetasZeroSnr = true));
        var a = s.AlphasCumprod.ToArray();
        var reference = ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        Assert.Equal(0, a[^1], 12);
        Assert.Equal(reference[0], a[0], 12);
        // √ᾱ is an affine map of the original √ᾱ (Lin et al. 2023, algorithm 1).
        double s0 = Math.Sqrt(reference[0]), sT = Math.Sqrt(reference[^1]);
        Assert.Equal((Math.Sqrt(reference[500]) - sT) * s0 / (s0 - sT), Math.Sqrt(a[500]), 10);
    }
}
