namespace LatentIndigo.Diffusion;

/// <summary>
/// The scheduler settings diffusers' Stable Diffusion pipelines (PyTorch and ONNX) impose whatever the file says:
/// <c>steps_offset = 1</c> and <c>clip_sample = false</c>. A file that says otherwise (DDIM's own defaults are
/// <c>clip_sample = true</c>, <c>steps_offset = 0</c>) would clamp ẑ0 to ±1 in scaled-latent units and shift the
/// timesteps; the pipelines override it with a deprecation warning, and so does LatentIndigo.
/// </summary>
internal static class SchedulerPipelineRules
{
    /// <summary>Overrides the two settings in <paramref name="config"/> and notes each change as a warning.</summary>
    public static void Apply(SchedulerConfig config, ExportNotes notes)
    {
        if (config.StepsOffset != 1)
        {
            notes.Warn($"scheduler_config.json says steps_offset = {config.StepsOffset}; using 1, as diffusers' Stable Diffusion pipelines do (the file is outdated).");
            config.StepsOffset = 1;
        }
        if (config.ClipSample)
        {
            notes.Warn("scheduler_config.json says clip_sample = true; using false, as diffusers' Stable Diffusion pipelines do (clipping ẑ0 to ±1 in scaled-latent units would ruin sampling and guidance).");
            config.ClipSample = false;
        }
    }
}
