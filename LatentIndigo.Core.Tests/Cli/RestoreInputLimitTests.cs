using Xunit;

namespace LatentIndigo.Tests.Cli;

/// <summary>Inputs that are not image files, or too large, are refused from the file system and header: nothing is decoded.</summary>
public class RestoreInputLimitTests
{
    [Theory]
    [InlineData("1")]
    [InlineData("4")]
    public void Oversized_image_is_refused_from_its_header_at_any_scale(string scale)
    {
        using var folder = TestData.NewTempFolder();
        // 8000×8000: 64 MP in, 64 MP out at ×1. The file has no pixel data: decoding it would fail as corrupt, so a
        // size message proves the refusal came from the header, before any decoding.
        File.WriteAllBytes(folder.File("big.png"), TestPngs.HeaderOnly(8000, 8000));
        var (code, output) = CliRun.Run("restore", folder.File("big.png"), "-o", folder.File("new/out.png"), "--scale", scale);
        Assert.Equal(1, code);
        Assert.False(Directory.Exists(folder.File("new")), "the output folder was created for a refused run");
        Assert.Contains("8000×8000", output);
        Assert.Contains("--max-output-mp", output);
        Assert.DoesNotContain("corrupt", output);
        Assert.False(File.Exists(folder.File("out.png")));
    }

    [Fact]
    public void Header_only_test_image_is_identifiable_but_not_decodable()
    {
        // The premise of the test above: reading the header works, decoding fails as truncated.
        using var folder = TestData.NewTempFolder();
        File.WriteAllBytes(folder.File("small.png"), TestPngs.HeaderOnly(300, 200));
        Assert.Equal((LatentIndigo.Imaging.ImageFileFormat.Png, 300, 200), LatentIndigo.Imaging.ImageIO.Identify(folder.File("small.png")));
        Assert.Throws<LatentIndigo.Imaging.CorruptImageException>(() => LatentIndigo.Imaging.ImageIO.Load(folder.File("small.png")));
    }

    [Fact]
    public void Max_output_option_lowers_the_limit()
    {
        using var folder = TestData.NewTempFolder();
        var (code, output) = CliRun.Run("restore", Path.Combine(TestData.Root, "lq", "chelsea_x4.png"), "-o", folder.File("out.png"), "--max-output-mp", "0.1");
        Assert.Equal(1, code);
        Assert.Contains("448×300", output);
        Assert.Contains("100,000", output);
    }

    [Fact]
    public async Task Device_file_is_refused_without_reading_it()
    {
        if (!File.Exists("/dev/zero"))
        {
            return;
        }
        using var folder = TestData.NewTempFolder();
        var run = Task.Run(() => CliRun.Run("restore", "/dev/zero", "-o", folder.File("out.png")));
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))));
        var (code, output) = await run;
        Assert.Equal(1, code);
        Assert.Contains("/dev/zero", output);
        Assert.Contains("device", output);
    }

    [Fact]
    public async Task Named_pipe_is_refused_without_opening_it()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var folder = TestData.NewTempFolder();
        string fifo = folder.File("pipe.png");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }
        Assert.True(File.Exists(fifo));
        // Opening a FIFO for reading blocks until a writer comes: a run that opened it would never return.
        var run = Task.Run(() => CliRun.Run("restore", fifo, "-o", folder.File("out.png")));
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))));
        var (code, output) = await run;
        Assert.Equal(1, code);
        Assert.Contains("pipe.png", output);
        Assert.Contains("pipe", output);
    }

    [Fact]
    public void Unconvertible_option_value_names_the_option()
    {
        var (code, output) = CliRun.Run("restore", "x.png", "-o", "y.png", "--steps", "abc");
        Assert.Equal(2, code);
        Assert.Contains("--steps", output);
        Assert.Contains("whole number", output);

        (code, output) = CliRun.Run("restore", "x.png", "-o", "y.png", "--strength=high");
        Assert.Equal(2, code);
        Assert.Contains("--strength", output);
    }

    [Fact]
    public void Option_errors_name_cli_options_not_api_properties()
    {
        using var folder = TestData.NewTempFolder();
        var (code, output) = CliRun.Run("restore", Path.Combine(TestData.Root, "lq", "chelsea_x4.png"), "-o", folder.File("o.png"), "--tile", "12", "--steps", "0");
        Assert.Equal(1, code);
        Assert.Contains("--tile", output);
        Assert.Contains("--steps", output);
        Assert.DoesNotContain("LatentTileOverlap", output);
        Assert.DoesNotContain("LatentTileSize", output);
    }

    [Fact]
    public void Verbose_flag_adds_the_stack_trace_anywhere_on_the_line()
    {
        var (code, output) = CliRun.Run("restore", "/nonexistent/in.png", "-o", "/tmp/x.png");
        Assert.Equal(1, code);
        Assert.False(CliRun.HasStackTrace(output), output);
        (code, output) = CliRun.Run("restore", "--verbose", "/nonexistent/in.png", "-o", "/tmp/x.png");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/in.png", output);
        Assert.True(CliRun.HasStackTrace(output), output);
    }
}
