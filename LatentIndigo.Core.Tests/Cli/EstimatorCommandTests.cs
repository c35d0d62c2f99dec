using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Tests.Batch;
using LatentIndigo.Tests.Pipeline.Estimators;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Cli;

/// <summary><c>--estimator</c> of restore and batch, eval's estimator strategies and <c>convert-tfjs</c>, through the CLI.</summary>
public class EstimatorCommandTests
{
    [Fact]
    public void Restore_with_the_bundled_esrgan_writes_the_networks_estimate()
    {
        // INN-only with an unknown degradation returns the initial estimate: the output must be the network's image.
        using var scope = torch.NewDisposeScope();
        using var folder = TestData.NewTempFolder();
        string input = Path.Combine(BatchTestImages.Write(folder.File("in"), 1, width: 20, height: 14), "img0.png");
        string output = folder.File("out.png");
        var (code, text) = CliRun.Run("restore", input, "-o", output, "--estimator", "esrgan-slim-x4");
        Assert.True(code == 0, text);
        Assert.Contains("esrgan-slim-x4 estimate", text);
        using var estimator = OnnxUpscaleEstimator.Load("esrgan-slim-x4");
        var expected = ImageQuality.QuantizeTo8Bit(estimator.Estimate(ImageIO.Load(input), 4));
        var written = ImageIO.Load(output);
        Assert.Equal(expected.shape, written.shape);
        Assert.True((expected - written).abs().max().item<float>() < 1.5f / 255, "the restore wrote something else than the estimate");
        var bicubic = ImageQuality.QuantizeTo8Bit(BicubicUpscaleEstimator.Instance.Estimate(ImageIO.Load(input), 4));
        Assert.True((bicubic - written).abs().max().item<float>() > 5f / 255, "the output is the bicubic estimate");
    }

    [Fact]
    public void An_unknown_estimator_or_a_wrong_scale_is_refused_without_a_stack_trace()
    {
        using var folder = TestData.NewTempFolder();
        string input = Path.Combine(BatchTestImages.Write(folder.File("in"), 1), "img0.png");
        var (code, text) = CliRun.Run("restore", input, "-o", folder.File("o.png"), "--estimator", "esrgan-huge");
        Assert.NotEqual(0, code);
        Assert.Contains("esrgan-huge", text);
        Assert.Contains("esrgan-slim-x4", text);
        Assert.False(CliRun.HasStackTrace(text));
        (code, text) = CliRun.Run("restore", input, "-o", folder.File("o.png"), "--estimator", "esrgan-slim-x2");
        Assert.NotEqual(0, code);
        Assert.Contains("×2", text);
        Assert.False(CliRun.HasStackTrace(text));
        Assert.False(File.Exists(folder.File("o.png")));
    }

    [Fact]
    public void Batch_records_the_estimator_and_refuses_a_resume_with_another()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 1, width: 12, height: 10);
        string output = folder.File("out");
        var (code, text) = CliRun.Run("batch", inputs, "-o", output, "--estimator", "esrgan-slim-x4");
        Assert.True(code == 0, text);
        (code, text) = CliRun.Run("batch", inputs, "-o", output, "--resume");
        Assert.Equal(1, code);
        Assert.Contains("InitialEstimator", text);
        Assert.Contains("esrgan-slim-x4", text);
        Assert.False(CliRun.HasStackTrace(text));
        (code, text) = CliRun.Run("batch", inputs, "-o", output, "--resume", "--estimator", "esrgan-slim-x4");
        Assert.True(code == 0, text);
    }

    [Fact]
    public void Eval_scores_the_estimator_alone_and_back_projected()
    {
        using var folder = TestData.NewTempFolder();
        string hr = BatchTestImages.Write(folder.File("hr"), 1, width: 48, height: 32);
        string output = folder.File("eval");
        var (code, text) = CliRun.Run("eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "esrgan-slim-x4,esrgan-slim-x4+inn", "--out", output);
        Assert.True(code == 0, text);
        var records = EvaluationReport.ReadCsv(Path.Combine(output, "results.csv")).ToList();
        Assert.Equal(["esrgan-slim-x4", "esrgan-slim-x4+inn"], records.Select(r => r.Strategy).ToArray());
        // The back-projection pulls the estimate onto the measurement: its re-degraded output matches the input better.
        Assert.True(records[1].Scores.LrPsnr > records[0].Scores.LrPsnr, $"{records[1].Scores.LrPsnr} vs {records[0].Scores.LrPsnr}");
    }

    [Fact]
    public void Eval_refuses_a_missing_model_file_by_name()
    {
        using var folder = TestData.NewTempFolder();
        string hr = BatchTestImages.Write(folder.File("hr"), 1, width: 48, height: 32);
        var (code, text) = CliRun.Run("eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic,missing-model.onnx+inn", "--out", folder.File("eval"));
        Assert.NotEqual(0, code);
        Assert.Contains("missing-model.onnx", text);
        Assert.False(CliRun.HasStackTrace(text));
        Assert.False(Directory.Exists(folder.File("eval")));
    }

    [Fact]
    public void Convert_tfjs_writes_a_loadable_model_and_keeps_an_existing_file()
    {
        using var folder = TestData.NewTempFolder();
        TfjsFixture.Write(folder.File("tfjs"), seed: 7);
        string onnx = folder.File("fixture.onnx");
        var (code, text) = CliRun.Run("convert-tfjs", Path.Combine(folder.File("tfjs"), "model.json"), "-o", onnx, "--range", "0-255");
        Assert.True(code == 0, text);
        using (var estimator = OnnxUpscaleEstimator.Load(onnx))
        {
            Assert.Equal(4, estimator.Scale);
            Assert.Equal(PixelValueRange.ZeroTo255, estimator.ValueRange);
        }
        long length = new FileInfo(onnx).Length;
        (code, text) = CliRun.Run("convert-tfjs", Path.Combine(folder.File("tfjs"), "model.json"), "-o", onnx);
        Assert.Equal(1, code);
        Assert.Contains("--force", text);
        Assert.Equal(length, new FileInfo(onnx).Length);
    }
}
