using LatentIndigo.Degradations;
using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Pipeline.Estimators;

public sealed class OnnxUpscaleEstimatorTests : IDisposable
{
    private readonly TestData.TempFolder folder = TestData.NewTempFolder();

    public void Dispose() => folder.Dispose();

    private string Save(string name, byte[] model)
    {
        string path = folder.File(name);
        File.WriteAllBytes(path, model);
        return path;
    }

    private static Tensor Image(long h, long w, int seed) =>
        torch.rand([1, 3, h, w], generator: new torch.Generator((ulong)seed));

    private static float MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Tiled_result_equals_the_untiled_one_when_the_receptive_field_is_inside_the_overlap()
    {
        using var scope = torch.NewDisposeScope();
        string path = Save("sr.onnx", UpscalerModels.Build());
        using var whole = OnnxUpscaleEstimator.Load(path, new OnnxUpscaleEstimatorOptions { TileSize = 256 });
        using var tiled = OnnxUpscaleEstimator.Load(path, new OnnxUpscaleEstimatorOptions { TileSize = 40, Overlap = 16 });
        var lq = Image(50, 70, 1);
        var reports = new List<UpscaleProgress>();
        var a = whole.Estimate(lq, 2);
        var b = tiled.Estimate(lq, 2, new SyncProgress(reports.Add));
        Assert.Equal(new long[] { 1, 3, 100, 140 }, b.shape);
        // Rows start at 0 and 10, columns at 0, 24 and 30: six tiles, seams in both directions.
        Assert.Equal(new UpscaleProgress(6, 6), reports[^1]);
        Assert.Equal(Enumerable.Range(1, 6), reports.Select(r => r.TilesDone));
        // Measured 1.2e-7 (float32 rounding of the weighted sums); a seam shows as 1e-2 or more (next test).
        Assert.True(MaxDifference(a, b) < 1e-5f, $"max difference {MaxDifference(a, b):E2}");
    }

    [Fact]
    public void Without_overlap_the_seams_show_so_the_previous_test_can_fail()
    {
        using var scope = torch.NewDisposeScope();
        string path = Save("sr.onnx", UpscalerModels.Build());
        using var whole = OnnxUpscaleEstimator.Load(path, new OnnxUpscaleEstimatorOptions { TileSize = 256 });
        using var abutting = OnnxUpscaleEstimator.Load(path, new OnnxUpscaleEstimatorOptions { TileSize = 40, Overlap = 0 });
        var lq = Image(50, 70, 1);
        // Tiles then abut at column 40 (the last one at 30 overlaps but has no fade): tile borders see zero padding.
        Assert.True(MaxDifference(whole.Estimate(lq, 2), abutting.Estimate(lq, 2)) > 1e-2f);
    }

    [Fact]
    public void Nhwc_and_0_to_255_models_give_the_same_image_as_the_plain_one()
    {
        using var scope = torch.NewDisposeScope();
        var options = new OnnxUpscaleEstimatorOptions { TileSize = 40, Overlap = 16 };
        using var plain = OnnxUpscaleEstimator.Load(Save("plain.onnx", UpscalerModels.Build()), options);
        using var nhwc = OnnxUpscaleEstimator.Load(Save("nhwc.onnx", UpscalerModels.Build(channelsLast: true)), options);
        using var byMetadata = OnnxUpscaleEstimator.Load(Save("meta.onnx", UpscalerModels.Build(range255: true, rangeMetadata: "0-255")), options);
        string sidecarModel = Save("side.onnx", UpscalerModels.Build(channelsLast: true, range255: true));
        File.WriteAllText(sidecarModel + ".json", """{"valueRange": "0-255"}""");
        using var bySidecar = OnnxUpscaleEstimator.Load(sidecarModel, options);
        using var byOptions = OnnxUpscaleEstimator.Load(Save("opt.onnx", UpscalerModels.Build(range255: true)), options with { ValueRange = PixelValueRange.ZeroTo255 });
        using var unaware = OnnxUpscaleEstimator.Load(Save("unaware.onnx", UpscalerModels.Build(range255: true)), options);

        Assert.False(plain.ChannelsLast);
        Assert.True(nhwc.ChannelsLast);
        Assert.True(bySidecar.ChannelsLast);
        Assert.Equal(PixelValueRange.ZeroTo255, byMetadata.ValueRange);
        Assert.Equal(PixelValueRange.ZeroTo255, bySidecar.ValueRange);
        Assert.Equal(PixelValueRange.ZeroToOne, unaware.ValueRange);
        var lq = Image(45, 33, 2);
        var expected = plain.Estimate(lq, 2);
        // Measured 0 (NHWC: the same arithmetic) and 2.4e-7 (0-255 variants: the ×255 ÷255 round trip in float32).
        var differences = new[] { nhwc, byMetadata, bySidecar, byOptions }.Select(o => $"{o.Name} {MaxDifference(expected, o.Estimate(lq, 2)):E2}").ToList();
        Assert.True(new[] { nhwc, byMetadata, bySidecar, byOptions }.All(o => MaxDifference(expected, o.Estimate(lq, 2)) < 1e-5f), string.Join(", ", differences));
        // Read as 0-1, the 0-255 model sees a nearly black image: far off.
        Assert.True(MaxDifference(expected, unaware.Estimate(lq, 2)) > 0.1f);
    }

    [Theory]
    [InlineData("two-inputs", "noise_level")]
    [InlineData("grey", "of size 3")]
    [InlineData("shrinks", "not an RGB image enlarged")]
    public void Unmappable_models_are_refused_at_load_saying_what_was_found(string kind, string expected)
    {
        string path = Save(kind + ".onnx", UpscalerModels.Unmappable(kind));
        var ex = Assert.Throws<LatentIndigoException>(() => OnnxUpscaleEstimator.Load(path));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("found inputs", ex.Message);
        Assert.Contains(kind + ".onnx", ex.Message);
    }

    [Fact]
    public void A_missing_file_or_a_wrong_scale_is_refused_with_the_reason()
    {
        var ex = Assert.Throws<LatentIndigoException>(() => OnnxUpscaleEstimator.Load(folder.File("none.onnx")));
        Assert.Contains("esrgan-slim-x4", ex.Message); // names the bundled alternatives
        using var estimator = OnnxUpscaleEstimator.Load(Save("sr.onnx", UpscalerModels.Build()));
        Assert.Equal(2, estimator.Scale);
        using var lq = Image(8, 8, 3);
        ex = Assert.Throws<LatentIndigoException>(() => estimator.Estimate(lq, 4));
        Assert.Contains("×2", ex.Message);
        Assert.Contains("×4", ex.Message);
    }

    [Fact]
    public void Cancellation_stops_between_tiles_and_before_starting()
    {
        using var scope = torch.NewDisposeScope();
        using var estimator = OnnxUpscaleEstimator.Load(Save("sr.onnx", UpscalerModels.Build()), new OnnxUpscaleEstimatorOptions { TileSize = 16, Overlap = 4 });
        var lq = Image(64, 64, 4);
        Assert.ThrowsAny<OperationCanceledException>(() => estimator.Estimate(lq, 2, new CancellationToken(canceled: true)));
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => estimator.Estimate(lq, 2, new SyncProgress(p =>
        {
            seen = p.TilesDone;
            cts.Cancel();
        }), cts.Token));
        Assert.Equal(1, seen); // of 25 tiles
        // The estimator is still usable afterwards.
        Assert.Equal(new long[] { 1, 3, 128, 128 }, estimator.Estimate(lq, 2).shape);
    }

    [Fact]
    public void Bundled_esrgan_slim_x4_is_a_photo_upscaler_close_to_bicubic_on_a_smooth_photo()
    {
        // Slim is a small network: on chelsea.png (bicubic:x4) it measured 31.38 dB PSNR-Y against bicubic's 31.48 (on
        // kodim13-24 it gains, docs/evaluation.md). Its ReLU layers with small biases make it nearly scale-invariant
        // (read as 0-1 it also measured 31.38 dB), so the range is checked by the float64 reference test, not here; a
        // scrambled channel order or layout would fall far below bicubic.
        using var scope = torch.NewDisposeScope();
        using var estimator = OnnxUpscaleEstimator.Load("esrgan-slim-x4");
        Assert.Equal(4, estimator.Scale);
        Assert.Equal(PixelValueRange.ZeroTo255, estimator.ValueRange);
        Assert.Equal("esrgan-slim-x4", estimator.Name);
        Assert.Contains("esrgan-slim-x4", estimator.ToString());
        var hr = ImageEvaluator.ModCrop(ImageIO.Load(TestData.Cc0("chelsea.png")), 4);
        var lq = ImageEvaluator.Degrade(hr, DegradationSpec.Parse("bicubic:x4"), 1);
        double Score(IInitialEstimator e) => ImageQuality.PsnrY(ImageQuality.QuantizeTo8Bit(e.Estimate(lq, 4)), hr, 4);
        double bicubic = Score(BicubicUpscaleEstimator.Instance), esrgan = Score(estimator);
        Assert.True(esrgan > bicubic - 0.5, $"esrgan {esrgan:F2} dB, bicubic {bicubic:F2} dB");
    }

    [Fact]
    public void Tiles_share_the_overlap_with_weights_summing_to_one()
    {
        // Two tiles of 10 on a length of 16 overlap by 4 (×2 output): the weights of the shared 8 output pixels add up to 1.
        Assert.Equal([0, 6], UpscaleTiling.Starts(16, 10, 4));
        var left = UpscaleTiling.Weights(0, 10, 16, 4, 2);
        var right = UpscaleTiling.Weights(6, 10, 16, 4, 2);
        for (int i = 12; i < 20; i++)
        {
            Assert.Equal(1f, left[i] + right[i - 12], 6);
        }
        Assert.Equal(0f, left[19]); // the last quarter band next to a tile edge never counts
        Assert.Equal(0f, right[0]);
        Assert.All(left[..12], w => Assert.Equal(1f, w)); // the image border side is not faded
    }

    private sealed class SyncProgress(Action<UpscaleProgress> report) : IProgress<UpscaleProgress>
    {
        public void Report(UpscaleProgress value) => report(value);
    }
}
