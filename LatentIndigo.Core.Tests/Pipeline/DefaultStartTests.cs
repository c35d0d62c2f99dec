using LatentIndigo.Diffusion;
using LatentIndigo.Pipeline;
using Xunit;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>The start that docs/algorithm.md and RestoreOptions state for the defaults, on SD's scheduler.</summary>
public class DefaultStartTests
{
    [Fact]
    public void Default_strength_runs_the_last_28_of_50_ddim_steps_from_t_541_where_alpha_bar_is_0_22()
    {
        var options = RestoreOptions.Default;
        using var sampler = new DdimSampler(new SchedulerConfig()); // SD 1.x/2.x: scaled-linear 0.00085–0.012, leading, offset 1
        sampler.SetTimesteps(options.Steps);
        var run = sampler.TimestepsForStrength(options.Strength);
        Assert.Equal(28, run.Count);
        Assert.Equal(541, run[0]);
        Assert.Equal(1, run[^1]);

        // ᾱ_541 from the schedule's definition in float64, independently of the sampler: β_i = (√0.00085 + i/999·(√0.012 − √0.00085))².
        double alphaBar = 1;
        for (int i = 0; i <= 541; i++)
        {
            double sqrtBeta = Math.Sqrt(0.00085) + i / 999.0 * (Math.Sqrt(0.012) - Math.Sqrt(0.00085));
            alphaBar *= 1 - sqrtBeta * sqrtBeta;
        }
        Assert.Equal(0.2245, alphaBar, 4);
        Assert.Equal(alphaBar, sampler.AlphasCumprod[541], 6); // the table is float64: same value to rounding
    }
}
