using LatentIndigo.Cli;
using LatentIndigo.Imaging;
using Spectre.Console.Testing;
using Xunit;

namespace LatentIndigo.Tests.Cli;

public class ConvertCommandTests
{
    [Fact]
    public void Shrinks_by_area_average_into_a_new_folder()
    {
        using var folder = TestData.NewTempFolder();
        string output = Path.Combine(folder.Path, "nested", "small.png");
        var console = new TestConsole();
        int code = CliApp.Run(new[] { "convert", TestData.Cc0("chelsea.png"), output, "--shrink", "4" }, default, console);
        Assert.Equal(0, code);
        using var original = ImageIO.Load(TestData.Cc0("chelsea.png"));
        using var small = ImageIO.Load(output);
        Assert.Equal(new long[] { 1, 3, 75, 112 }, small.shape);
        // Pixel (0,0) is the mean of the 4×4 block, then quantised to 8 bits.
        float expected = original[0, 0].narrow(0, 0, 4).narrow(1, 0, 4).mean().item<float>();
        Assert.Equal(MathF.Round(expected * 255), MathF.Round(small[0, 0, 0, 0].item<float>() * 255));
    }

    [Fact]
    public void Refuses_to_overwrite_the_input_and_reports_missing_files()
    {
        using var folder = TestData.NewTempFolder();
        string input = folder.File("in.png");
        File.Copy(TestData.Cc0("chelsea.png"), input);
        var before = File.ReadAllBytes(input);
        var console = new TestConsole();
        Assert.Equal(1, CliApp.Run(new[] { "convert", input, input, "--force" }, default, console));
        Assert.Contains("input", console.Output);
        Assert.Equal(before, File.ReadAllBytes(input));

        var console2 = new TestConsole();
        Assert.Equal(1, CliApp.Run(new[] { "convert", folder.File("missing.png"), folder.File("o.png") }, default, console2));
        Assert.Contains("does not exist", console2.Output);
    }

    [Fact]
    public void Info_lists_versions_and_providers()
    {
        var console = new TestConsole();
        Assert.Equal(0, CliApp.Run(new[] { "info", "--plain" }, default, console));
        Assert.Contains("TorchSharp=0.107.0", console.Output);
        Assert.Contains("CPUExecutionProvider", console.Output);
    }
}
