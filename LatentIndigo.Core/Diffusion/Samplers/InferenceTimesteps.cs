namespace LatentIndigo.Diffusion;

/// <summary>The inference timesteps for a spacing, in decreasing order, as diffusers' <c>set_timesteps</c> picks them.</summary>
internal static class InferenceTimesteps
{
    public static int[] Compute(SchedulerConfig config, int numInferenceSteps)
    {
        int t = config.NumTrainTimesteps;
        if (numInferenceSteps < 1 || numInferenceSteps > t)
        {
            throw new LatentIndigoException(
                $"The number of inference steps must lie in 1..{t} (num_train_timesteps); got {numInferenceSteps}.");
        }
        int n = numInferenceSteps;
        var result = new int[n];
        if (config.TimestepSpacing == TimestepSpacing.Leading)
        {
            int ratio = t / n;
            for (int k = 0; k < n; k++)
            {
                result[k] = (n - 1 - k) * ratio + config.StepsOffset;
            }
        }
        else if (config.TimestepSpacing == TimestepSpacing.Trailing)
        {
            // numpy: round(arange(T, 0, -T/N)) - 1; rounding is half-to-even like numpy's.
            double ratio = (double)t / n;
            for (int k = 0; k < n; k++)
            {
                result[k] = (int)Math.Round(t - k * ratio, MidpointRounding.ToEven) - 1;
            }
        }
        else
        {
            var ls = NoiseSchedule.Linspace(0, t - 1, n);
            for (int k = 0; k < n; k++)
            {
                result[k] = (int)Math.Round(ls[n - 1 - k], MidpointRounding.ToEven);
            }
        }
        foreach (var ts in result)
        {
            if (ts < 0 || ts >= t)
            {
                throw new LatentIndigoException(
                    $"Timestep {ts} falls outside 0..{t - 1}: steps_offset {config.StepsOffset} is too large for {n} steps.");
            }
        }
        return result;
    }
}
