using System.Text.Json;
using Xunit;

namespace LatentIndigo.Tests.Cli;

public class RestoreReportTests
{
    private static string SmallLq => Path.Combine(TestData.Root, "lq", "chelsea_x4.png");

    [Fact]
    public void Report_holds_sizes_strategy_device_stage_times_and_metrics_per_image()
    {
        using var folder = TestData.NewTempFolder();
        string report = folder.File("reports/run.json");
        var (code, text) = CliRun.Run("restore", SmallLq, "-o", folder.File("x.png"), "--degradation", "bicubic:x4", "--report", report);
        Assert.True(code == 0, text);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        Assert.Equal("cpu", json.RootElement.GetProperty("device").GetString());
        var image = Assert.Single(json.RootElement.GetProperty("images").EnumerateArray());
        Assert.Equal(112, image.GetProperty("inputWidth").GetInt32());
        Assert.Equal(75, image.GetProperty("inputHeight").GetInt32());
        Assert.Equal(448, image.GetProperty("outputWidth").GetInt32());
        Assert.Equal(300, image.GetProperty("outputHeight").GetInt32());
        Assert.Equal("InnOnly", image.GetProperty("strategy").GetString());
        Assert.True(image.GetProperty("seconds").GetProperty("Total").GetDouble() > 0);
        // --degradation makes the pipeline re-degrade the output: the measured PSNR is there at full precision.
        double measured = image.GetProperty("metrics").GetProperty("measurementPsnr").GetDouble();
        Assert.InRange(measured, 30, 80);
        Assert.NotEqual(Math.Round(measured, 1), measured);
    }

    [Fact]
    public void An_existing_report_is_kept_without_force_and_nothing_is_restored()
    {
        using var folder = TestData.NewTempFolder();
        string report = folder.File("run.json");
        File.WriteAllText(report, "{}");
        var (code, text) = CliRun.Run("restore", SmallLq, "-o", folder.File("x.png"), "--report", report);
        Assert.Equal(1, code);
        Assert.Contains("--report", text);
        Assert.Equal("{}", File.ReadAllText(report));
        Assert.False(File.Exists(folder.File("x.png")));
    }
}
