namespace LatentIndigo.Diffusion;

/// <summary>
/// β_t and ᾱ_t = Π(1−β_s) over the training timesteps, in float64, from a <see cref="SchedulerConfig"/>
/// (the same definitions as diffusers' schedulers, which compute them in float32).
/// </summary>
internal static class NoiseSchedule
{
    /// <summary>β_0 … β_{T−1}.</summary>
    public static double[] Betas(SchedulerConfig config)
    {
        int n = config.NumTrainTimesteps;
        double[] betas;
        if (config.TrainedBetas is not null)
        {
            betas = config.TrainedBetas.ToArray();
        }
        else if (config.BetaSchedule == BetaSchedule.Linear)
        {
            betas = Linspace(config.BetaStart, config.BetaEnd, n);
        }
        else if (config.BetaSchedule == BetaSchedule.ScaledLinear)
        {
            betas = Linspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), n).Select(b => b * b).ToArray();
        }
        else
        {
            // Cosine ᾱ(t) of "Improved DDPM", β_t = 1 − ᾱ((t+1)/T)/ᾱ(t/T), capped at 0.999 as in that paper.
            static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
            betas = new double[n];
            for (int i = 0; i < n; i++)
            {
                betas[i] = Math.Min(1 - AlphaBar((i + 1.0) / n) / AlphaBar((double)i / n), 0.999);
            }
        }
        foreach (var b in betas)
        {
            if (!(b > 0 && b <= 1))
            {
                throw new LatentIndigoException($"Every beta must lie in (0, 1]; found {b}. Check beta_start, beta_end or trained_betas.");
            }
        }
        return config.RescaleBetasZeroSnr ? RescaleZeroTerminalSnr(betas) : betas;
    }

    /// <summary>ᾱ_t, the cumulative product of 1 − β.</summary>
    public static double[] AlphasCumprod(double[] betas)
    {
        var a = new double[betas.Length];
        double p = 1;
        for (int i = 0; i < betas.Length; i++)
        {
            p *= 1 - betas[i];
            a[i] = p;
        }
        return a;
    }

    /// <summary>numpy-style <c>linspace(start, stop, n)</c> with both ends included.</summary>
    public static double[] Linspace(double start, double stop, int n)
    {
        var r = new double[n];
        for (int i = 0; i < n; i++)
        {
            r[i] = n == 1 ? start : start + (stop - start) * i / (n - 1);
        }
        return r;
    }

    // Lin et al. 2023, algorithm 1: shift and scale √ᾱ so that √ᾱ_{T−1} = 0 while √ᾱ_0 is kept.
    private static double[] RescaleZeroTerminalSnr(double[] betas)
    {
        var sqrtAc = AlphasCumprod(betas).Select(Math.Sqrt).ToArray();
        double first = sqrtAc[0], last = sqrtAc[^1];
        for (int i = 0; i < sqrtAc.Length; i++)
        {
            sqrtAc[i] = (sqrtAc[i] - last) * first / (first - last);
        }
        var result = new double[betas.Length];
        result[0] = 1 - sqrtAc[0] * sqrtAc[0];
        for (int i = 1; i < betas.Length; i++)
        {
            result[i] = 1 - sqrtAc[i] * sqrtAc[i] / (sqrtAc[i - 1] * sqrtAc[i - 1]);
        }
        return result;
    }
}
