using LatentIndigo.Cli;
using LatentIndigo.Imaging;
using Spectre.Console.Testing;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Cli;

public class RestoreCommandTests
{
    private static string SmallLq => Path.Combine(TestData.Root, "lq", "chelsea_x4.png");

    private static TestConsole Console()
    {
        var console = new TestConsole();
        console.Profile.Width = 300;
        return console;
    }

    [Fact]
    public void Stand_in_run_goes_end_to_end_says_so_and_writes_a_comparison()
    {
        using var folder = TestData.NewTempFolder();
        var output = folder.File("out/restored.png");
        var compare = folder.File("out/compare.png");
        var console = Console();
        int code = CliApp.Run(["restore", SmallLq, "-o", output, "--stand-in", "--steps", "4", "--strength", "0.5", "--compare", compare], default, console);
        Assert.True(code == 0, console.Output);
        Assert.Contains("STAND-IN", console.Output);
        Assert.Contains("PixelInn", console.Output);
        Assert.Contains("Sampling", console.Output); // the per-stage table
        Assert.Equal((ImageFileFormat.Png, 448, 300), ImageIO.Identify(output));
        Assert.Equal((ImageFileFormat.Png, 448 * 2 + 8, 300), ImageIO.Identify(compare));
    }

    [Fact]
    public void Folder_input_restores_every_image_without_a_model_and_explains_how_to_get_one()
    {
        using var folder = TestData.NewTempFolder();
        var inputs = Path.Combine(folder.Path, "in");
        Directory.CreateDirectory(inputs);
        File.Copy(SmallLq, Path.Combine(inputs, "a.png"));
        ImageIO.Save(ImageIO.Load(SmallLq).narrow(2, 0, 40).narrow(3, 0, 33), Path.Combine(inputs, "b.jpg"));
        var console = Console();
        int code = CliApp.Run(["restore", inputs, "-o", Path.Combine(folder.Path, "out")], default, console);
        Assert.True(code == 0, console.Output);
        Assert.Contains("No generative prior was used", console.Output);
        Assert.Contains("--model", console.Output);
        Assert.Equal((ImageFileFormat.Png, 448, 300), ImageIO.Identify(Path.Combine(folder.Path, "out", "a.png")));
        Assert.Equal((ImageFileFormat.Png, 132, 160), ImageIO.Identify(Path.Combine(folder.Path, "out", "b.png")));
    }

    [Fact]
    public void Refuses_bad_requests_with_one_readable_line()
    {
        using var folder = TestData.NewTempFolder();
        string input = folder.File("in.png");
        File.Copy(SmallLq, input);
        var before = File.ReadAllBytes(input);

        var overwrite = Console();
        Assert.Equal(1, CliApp.Run(["restore", input, "-o", input, "--force"], default, overwrite));
        Assert.Contains("input", overwrite.Output);
        Assert.Equal(before, File.ReadAllBytes(input));

        var noModel = Console();
        Assert.Equal(1, CliApp.Run(["restore", input, "-o", folder.File("x.png"), "--strategy", "latent"], default, noModel));
        Assert.Contains("--model", noModel.Output);

        var both = Console();
        Assert.NotEqual(0, CliApp.Run(["restore", input, "-o", folder.File("y.png"), "--blind", "--degradation", "bicubic:x4"], default, both));
        Assert.Contains("not both", both.Output);

        var badModel = Console();
        Assert.Equal(1, CliApp.Run(["restore", input, "-o", folder.File("z.png"), "--model", folder.Path], default, badModel));
        Assert.Contains("unet", badModel.Output);
        Assert.False(File.Exists(folder.File("z.png")));

        var gpuWithoutModel = Console();
        Assert.Equal(1, CliApp.Run(["restore", input, "-o", folder.File("g.png"), "--provider", "cuda"], default, gpuWithoutModel));
        Assert.Contains("--provider cuda", gpuWithoutModel.Output);

        var badProvider = Console();
        Assert.NotEqual(0, CliApp.Run(["restore", input, "-o", folder.File("p.png"), "--stand-in", "--provider", "tpu"], default, badProvider));
        Assert.Contains("cpu or cuda", badProvider.Output);

        var costWithoutStandIn = Console();
        Assert.NotEqual(0, CliApp.Run(["restore", input, "-o", folder.File("c.png"), "--stand-in-cost", "sd"], default, costWithoutStandIn));
        Assert.Contains("only applies with --stand-in", costWithoutStandIn.Output);
    }

    [Fact]
    public void Inn_engine_option_selects_the_runtime_and_both_give_the_same_image()
    {
        // INN-only with a known degradation back-projects through the INN's forward pass: the generated ONNX graphs and
        // TorchSharp compute the same sums in other orders (float32, relative error ≤ 1e-5, docs/onnx-inn.md), so the
        // 8-bit images may differ by one level where a value sits on a rounding boundary, never by more.
        using var folder = TestData.NewTempFolder();
        var images = new Dictionary<string, Tensor>();
        foreach (var engine in new[] { "onnxruntime", "torchsharp" })
        {
            var console = Console();
            int code = CliApp.Run(["restore", SmallLq, "--degradation", "bicubic:x4", "--inn-engine", engine, "-o", folder.File($"{engine}.png"),
                "--report", folder.File($"{engine}.json")], default, console);
            Assert.True(code == 0, console.Output);
            images[engine] = ImageIO.Load(folder.File($"{engine}.png"));
            using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File($"{engine}.json")));
            Assert.Equal(engine == "torchsharp" ? "TorchSharp" : "OnnxRuntime", report.RootElement.GetProperty("innEngine").GetString());
        }
        double levels = (images["onnxruntime"] - images["torchsharp"]).abs().max().item<float>() * 255;
        Assert.True(levels <= 1.01, $"the engines differ by {levels:F2} levels");

        var bad = Console();
        Assert.NotEqual(0, CliApp.Run(["restore", SmallLq, "-o", folder.File("bad.png"), "--inn-engine", "tpu"], default, bad));
        Assert.Contains("auto, onnxruntime or torchsharp", bad.Output);
        Assert.False(File.Exists(folder.File("bad.png")));
    }
}
