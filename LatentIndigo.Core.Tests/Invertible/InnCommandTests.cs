using LatentIndigo.Cli;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using Spectre.Console.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

// In the non-parallel collection: train-inn --threads changes libtorch's process-wide thread count while it runs, and
// restores beside it (blind refinement's weight gradients) would then sum in another order and differ in the last bits.
[Collection(TorchCpuSettingsCollection.Name)]
public class InnCommandTests
{
    private static string SmallLq => Path.Combine(TestData.Root, "lq", "chelsea_x4.png");

    [Fact]
    public void Restore_upscales_by_the_inn_factor_and_says_no_generative_prior_was_used()
    {
        using var folder = TestData.NewTempFolder();
        var weights = folder.File("tiny.inn");
        using (var inn = InnTestHelpers.RandomInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 }, seed: 71, scale: 0.05))
        {
            inn.Save(weights);
        }
        var output = folder.File("out/restored.png");
        var console = new TestConsole();
        console.Profile.Width = 400;
        Assert.Equal(0, CliApp.Run(["restore", SmallLq, "-o", output, "--inn", weights], default, console));
        Assert.Contains("No generative prior was used", console.Output);
        var (_, width, height) = ImageIO.Identify(output);
        Assert.Equal((448, 300), (width, height)); // 112×75 input, ×4

        // The lifting weights are shared across levels, so the ×4 INN also serves ×2 (one level fewer).
        var otherScale = new TestConsole();
        Assert.Equal(0, CliApp.Run(["restore", SmallLq, "-o", folder.File("x.png"), "--inn", weights, "--scale", "2"], default, otherScale));
        Assert.Equal((224, 150), ImageIO.Identify(folder.File("x.png")) is var (_, w2, h2) ? (w2, h2) : default);
        var badScale = new TestConsole();
        Assert.Equal(1, CliApp.Run(["restore", SmallLq, "-o", folder.File("z.png"), "--inn", weights, "--scale", "3"], default, badScale));
        Assert.Contains("--scale must be 1, 2, 4 or 8", badScale.Output); // the option, not the API property
        var missing = new TestConsole();
        Assert.Equal(1, CliApp.Run(["restore", SmallLq, "-o", folder.File("y.png"), "--inn", folder.File("none.inn")], default, missing));
        Assert.Contains("bundled", missing.Output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Train_inn_writes_weights_with_metadata_and_eval_inn_prints_a_psnr_table(bool encoder)
    {
        using var folder = TestData.NewTempFolder();
        var images = Path.Combine(folder.Path, "images");
        Directory.CreateDirectory(images);
        foreach (var name in new[] { "chelsea.png", "coffee.png" })
        {
            using var scope = NewDisposeScope();
            ImageIO.Save(nn.functional.avg_pool2d(ImageIO.Load(TestData.Cc0(name)), 4), Path.Combine(images, name));
        }
        var weights = folder.File("trained.inn");
        var console = new TestConsole();
        console.Profile.Width = 400;
        int code = CliApp.Run(["train-inn", "--images", images, "--val", images, "--degradation", "area:x4", "--steps", "4", "--batch", "2",
            "--crop", "32", "--res-blocks", "1", "--out", weights, "--threads", "1", .. (encoder ? new[] { "--encoder" } : [])], default, console);
        Assert.True(code == 0, console.Output);
        Assert.Contains("validation", console.Output);
        Assert.Equal(encoder, console.Output.Contains("degradation encoder"));
        Assert.Contains("to imitate area:x4 on 2 images", console.Output);
        using (var inn = LiftingInn.Load(weights))
        {
            Assert.Equal("area:x4", inn.Metadata["degradation"]);
            Assert.Equal("4", inn.Metadata["training.steps"]);
            Assert.Equal(1, inn.Options.ResBlocks);
            Assert.Equal(encoder, inn.Encoder is not null);
        }
        Assert.True(File.Exists(weights + ".ckpt"));

        var eval = new TestConsole();
        eval.Profile.Width = 400;
        Assert.Equal(0, CliApp.Run(["eval-inn", "--weights", weights, "--images", images], default, eval));
        Assert.Contains("chelsea.png", eval.Output);
        Assert.Contains("mean", eval.Output);
        Assert.Contains("area:x4", eval.Output);
    }

    [Fact]
    public void Train_inn_rejects_bad_specs_and_non_power_of_two_factors()
    {
        using var folder = TestData.NewTempFolder();
        var bad = new TestConsole();
        bad.Profile.Width = 400;
        Assert.Equal(1, CliApp.Run(["train-inn", "--images", TestData.Root, "--degradation", "blurry:x4", "--out", folder.File("a.inn")], default, bad));
        Assert.Contains("bicubic", bad.Output); // the error lists the valid names
        var three = new TestConsole();
        three.Profile.Width = 400;
        Assert.Equal(1, CliApp.Run(["train-inn", "--images", TestData.Root, "--degradation", "bicubic:x3", "--out", folder.File("b.inn")], default, three));
        Assert.Contains("power of two", three.Output);
        var scale = new TestConsole();
        scale.Profile.Width = 400;
        Assert.Equal(1, CliApp.Run(["train-inn", "--images", TestData.Root, "--degradation", "bicubic:x4", "--encoder", "--encoder-lr-scale", "0",
            "--out", folder.File("c.inn")], default, scale));
        Assert.Contains("EncoderLearningRateScale = 0", scale.Output);
        Assert.False(LatentIndigo.Tests.Cli.CliRun.HasStackTrace(scale.Output), scale.Output);
        Assert.False(File.Exists(folder.File("c.inn")));
    }
}
