using System.Text.Json;
using LatentIndigo.Cli;
using LatentIndigo.Degradations;
using LatentIndigo.Imaging;
using Spectre.Console.Testing;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Degradations;

public class DegradeCommandTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var console = new TestConsole();
        console.Profile.Width = 400;
        var code = CliApp.Run(args, default, console);
        return (code, console.Output);
    }

    [Fact]
    public void Folder_input_makes_cropped_hq_lq_pairs_with_sidecars()
    {
        using var folder = TestData.NewTempFolder();
        var input = Directory.CreateDirectory(folder.File("in")).FullName;
        File.Copy(TestData.Cc0("chelsea.png"), Path.Combine(input, "chelsea.png"));
        File.Copy(TestData.Cc0("coffee.png"), Path.Combine(input, "coffee.png"));
        var output = folder.File("out");

        var (code, text) = Run("degrade", "--input", input, "--degradation", "bicubic:x4", "--output", output, "--seed", "3");
        Assert.True(code == 0, text);

        // chelsea is 451×300: the HQ is cropped to 448×300 and the LQ is MATLAB bicubic of that crop, 8-bit.
        using var original = ImageIO.Load(TestData.Cc0("chelsea.png"));
        using var hq = ImageIO.Load(Path.Combine(output, "hq", "chelsea.png"));
        using var lq = ImageIO.Load(Path.Combine(output, "lq", "chelsea.png"));
        Assert.Equal(new long[] { 1, 3, 300, 448 }, hq.shape);
        Assert.Equal(new long[] { 1, 3, 75, 112 }, lq.shape);
        Assert.True(hq.eq(original.narrow(3, 0, 448)).all().item<bool>());
        using var expected = MatlabBicubic.Resize(hq, 0.25).clamp(0, 1).mul(255).round().div(255);
        Assert.True(lq.sub(expected).abs().max().item<float>() < 1.5f / 255);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "lq", "coffee.json")));
        var root = json.RootElement;
        Assert.Equal("bicubic:x4", root.GetProperty("degradation").GetString());
        Assert.Equal(4, root.GetProperty("seed").GetInt64()); // second image: seed + 1
        Assert.Equal(150, root.GetProperty("lq").GetProperty("width").GetInt32());
        Assert.Equal("bicubic", root.GetProperty("steps")[0].GetProperty("operator").GetString());
    }

    [Fact]
    public void Random_pipeline_is_reproducible_from_the_seed_and_records_its_draws()
    {
        using var folder = TestData.NewTempFolder();
        var input = TestData.Cc0("chelsea.png");
        var a = folder.File("a.png");
        var b = folder.File("b.png");
        Assert.Equal(0, Run("degrade", "-i", input, "-d", "realesrgan:x2", "-o", a, "--seed", "9").Code);
        Assert.Equal(0, Run("degrade", "-i", input, "-d", "realesrgan:x2", "-o", b, "--seed", "9").Code);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        using var ja = JsonDocument.Parse(File.ReadAllText(folder.File("a.json")));
        using var jb = JsonDocument.Parse(File.ReadAllText(folder.File("b.json")));
        var steps = ja.RootElement.GetProperty("steps");
        Assert.Equal(steps.GetRawText(), jb.RootElement.GetProperty("steps").GetRawText());
        var names = steps.EnumerateArray().Select(s => s.GetProperty("operator").GetString()).ToList();
        Assert.Contains("resize1", names);
        Assert.Contains("final.jpeg", names);
        var q = steps.EnumerateArray().First(s => s.GetProperty("operator").GetString() == "jpeg1").GetProperty("parameters").GetProperty("q").GetInt32();
        Assert.InRange(q, 30, 95);
    }

    [Fact]
    public void Never_overwrites_inputs_or_existing_outputs_and_explains_bad_specs()
    {
        using var folder = TestData.NewTempFolder();
        var input = folder.File("in.png");
        File.Copy(TestData.Cc0("chelsea.png"), input);
        var before = File.ReadAllBytes(input);

        var (code, text) = Run("degrade", "-i", input, "-d", "bicubic:x2", "-o", input);
        Assert.Equal(1, code);
        Assert.Contains("never overwrites", text);
        Assert.Equal(before, File.ReadAllBytes(input));

        var output = folder.File("out.png");
        File.WriteAllText(output, "keep");
        (code, text) = Run("degrade", "-i", input, "-d", "bicubic:x2", "-o", output);
        Assert.Equal(1, code);
        Assert.Contains("--force", text);
        Assert.Equal("keep", File.ReadAllText(output));
        Assert.Equal(0, Run("degrade", "-i", input, "-d", "bicubic:x2", "-o", output, "--force").Code);

        (code, text) = Run("degrade", "-i", input, "-d", "blur:sigma=2", "-o", folder.File("x.png"));
        Assert.Equal(1, code);
        Assert.Contains("Unknown degradation 'blur'", text);
        Assert.Contains("gauss:", text);

        (code, text) = Run("degrade", "-i", folder.File("missing.png"), "-d", "bicubic:x2", "-o", folder.File("x.png"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", text);

        (code, text) = Run("degrade", "-i", input, "-d", "realesrgan:x8", "-o", folder.File("x.png"));
        Assert.Equal(1, code);
        Assert.Contains("at least 320x320", text);
        Assert.False(File.Exists(folder.File("x.png")));
    }
}
