using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using LatentIndigo.Tests.Diffusion.StandIns;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Diffusion.Exports;

/// <summary>Issue 13 #1: scheduler files that say clip_sample = true or steps_offset ≠ 1 are overridden as diffusers' SD pipelines do.</summary>
public class SchedulerPipelineRulesTests
{
    [Fact]
    public void ClipSampleAndStepsOffset_AreForcedToThePipelineValues_WithAWarningEach()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { SchedulerClipSample = true, SchedulerStepsOffset = 0 });
        // The file really says so (the parser alone keeps the file's values).
        var raw = SchedulerConfig.FromFile(Path.Combine(folder.Path, "scheduler", "scheduler_config.json"));
        Assert.True(raw.ClipSample);
        Assert.Equal(0, raw.StepsOffset);

        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        Assert.False(models.SchedulerConfig.ClipSample);
        Assert.Equal(1, models.SchedulerConfig.StepsOffset);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("clip_sample = true; using false"));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("steps_offset = 0; using 1"));
        Assert.Equal(2, models.LoadNotes.Count(n => n.Contains("diffusers' Stable Diffusion pipelines")));

        // The sampler the models make: leading spacing with offset 1 (981, 961, …) and ẑ0 not clamped to ±1.
        using var sampler = models.CreateSampler();
        sampler.SetTimesteps(50);
        Assert.Equal(981, sampler.Timesteps[0]);
        Assert.Equal(1, sampler.Timesteps[^1]);
        using var sample = torch.full([1, 4, 2, 2], 3.0f);
        using var eps = torch.zeros([1, 4, 2, 2]);
        using var p = sampler.PredictOriginal(eps, 981, sample);
        // ε = 0 gives ẑ0 = x_t/√ᾱ_t, far above 1 here: clipping would have returned 1.
        Assert.True(p.PredictedOriginal.min().item<float>() > 3.0f);
    }

    [Fact]
    public void PipelineValues_AreLeftAlone_WithoutWarnings()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        Assert.DoesNotContain(log.Entries, e => e.Level == LogLevel.Warning);
        Assert.DoesNotContain(models.LoadNotes, n => n.Contains("scheduler_config.json"));
    }
}
