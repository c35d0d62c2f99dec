using LatentIndigo.Cli;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using LatentIndigo.StandIns;
using Spectre.Console.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Cli;

public class LatentInnTrainingTests
{
    [Fact]
    public void Train_inn_latent_learns_in_the_vae_latent_space()
    {
        using var stand = StandInModelBuilder.CreateTemporary(new StandInOptions { LatentChannels = 4 });
        using var folder = TestData.NewTempFolder();
        var images = Path.Combine(folder.Path, "images");
        Directory.CreateDirectory(images);
        foreach (var name in new[] { "chelsea.png", "coffee.png" })
        {
            File.Copy(TestData.Cc0(name), Path.Combine(images, name));
        }
        var weights = folder.File("latent.inn");
        var console = new TestConsole();
        console.Profile.Width = 300;
        int code = CliApp.Run(["train-inn", "--latent", "--vae", stand.Path, "--images", images, "--val", images, "--degradation", "bicubic:x4",
            "--steps", "30", "--batch", "2", "--crop", "128", "--res-blocks", "1", "--lr", "2e-3", "--out", weights, "--validate-every", "30"], default, console);
        Assert.True(code == 0, console.Output);
        Assert.Contains("latent INN", console.Output);
        Assert.Contains("stand-in", console.Output);

        using var inn = LiftingInn.Load(weights);
        Assert.Equal(4, inn.Channels);
        Assert.Equal(0.0, inn.Offset);
        Assert.Equal("latent", inn.Metadata["space"]);

        // Independent check: the trained coarse band of E(x) is closer to E(bicubic(x)) than the untrained polyphase split.
        using var models = StableDiffusionModels.Load(stand.Path);
        using var scope = NewDisposeScope();
        var x = ImageIO.Load(TestData.Cc0("coffee.png")).narrow(2, 0, 256).narrow(3, 0, 256);
        var y = LatentIndigo.Degradations.MatlabBicubic.Resize(x, 0.25);
        var zx = models.Vae.Encode(x);
        var zy = models.Vae.Encode(y);
        using var untrained = new LiftingInn(inn.Options);
        untrained.ResetToLazyWavelet();
        using var noGrad = no_grad();
        double trainedMse = (inn.Forward(zx, null).Coarse - zy).pow(2).mean().item<float>();
        double untrainedMse = (untrained.Forward(zx, null).Coarse - zy).pow(2).mean().item<float>();
        Assert.True(trainedMse < untrainedMse, $"trained {trainedMse:E3} vs polyphase {untrainedMse:E3}");
    }

    [Fact]
    public void Latent_needs_a_vae()
    {
        var console = new TestConsole();
        Assert.NotEqual(0, CliApp.Run(["train-inn", "--latent", "--images", "x", "--degradation", "bicubic:x4", "--out", "y.inn"], default, console));
        Assert.Contains("--vae", console.Output);
    }
}
