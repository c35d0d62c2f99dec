using LatentIndigo.Cli;
using Spectre.Console.Testing;
using Xunit;

namespace LatentIndigo.Tests.Cli;

public class SdCheckCommandTests
{
    [Fact]
    public void StandIn_RunsAndSaysItIsAStandIn()
    {
        var console = new TestConsole { Profile = { Width = 200 } };
        int code = CliApp.Run(["sd-check", "--stand-in", "--size", "64"], default, console);
        Assert.True(code == 0, console.Output);
        Assert.Contains("STAND-IN MODELS", console.Output);
        Assert.Contains("latent_sample", console.Output);
        Assert.Contains("UNet step", console.Output);
        Assert.Contains("(stand-in models)", console.Output);
    }

    [Fact]
    public void WhatLoadingDecided_IsPrintedOneLineEach()
    {
        using var folder = LatentIndigo.StandIns.StandInModelBuilder.CreateTemporary(new LatentIndigo.StandIns.StandInOptions
        {
            EncoderOutput = LatentIndigo.StandIns.StandInEncoderOutput.LatentSampleRandom, SchedulerClipSample = true, UnetSampleSize = 96,
        });
        var console = new TestConsole { Profile = { Width = 1000 } };
        int code = CliApp.Run(["sd-check", folder.Path, "--size", "64"], default, console);
        Assert.True(code == 0, console.Output);
        Assert.Contains("note: vae_encoder samples latent_sample with an unseeded RandomNormalLike", console.Output);
        Assert.Contains("note: scheduler_config.json says clip_sample = true; using false", console.Output);
        Assert.Contains("note: Latent tiles default to 96", console.Output);
        Assert.Contains("sampling head removed: posterior mean", console.Output);
    }

    [Fact]
    public void BadFolder_AndCudaWithoutGpuPackage_AreReadableErrors()
    {
        var console = new TestConsole { Profile = { Width = 200 } };
        Assert.Equal(1, CliApp.Run(["sd-check", "/nonexistent/export"], default, console));
        Assert.Contains("does not exist", console.Output);

        var console2 = new TestConsole { Profile = { Width = 400 } };
        Assert.Equal(1, CliApp.Run(["sd-check", "--stand-in", "--provider", "cuda"], default, console2));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", console2.Output);
    }
}
