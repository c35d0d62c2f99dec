using LatentIndigo.Pipeline;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Pipeline.Estimators;

public class TfjsLayersConverterTests
{
    private static string BundledTfjs => Path.Combine(TestData.Root, "estimators", "tfjs", "esrgan-slim-x4", "model.json");

    private static string BundledOnnx => Path.Combine(TestData.Root, "estimators", "esrgan-slim-x4.onnx");

    /// <summary>The converted graph run by ONNX Runtime (NCHW float32) on an NHWC float64 input.</summary>
    private static Tensor RunOnnx(string onnxPath, Tensor nhwc)
    {
        using var session = new InferenceSession(onnxPath);
        var nchw = nhwc.permute(0, 3, 1, 2).to(float32).contiguous();
        var data = nchw.data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(data, nchw.shape);
        using var results = session.Run(new RunOptions(), ["input"], [input], ["output"]);
        var shape = results[0].GetTensorTypeAndShape().Shape;
        return torch.tensor(results[0].GetTensorDataAsSpan<float>().ToArray(), shape).permute(0, 2, 3, 1).to(float64);
    }

    private static double RelativeError(Tensor actual, Tensor expected) =>
        (actual - expected).abs().max().item<double>() / expected.abs().max().item<double>();

    [Fact]
    public void Fixture_with_every_layer_matches_the_float64_reference()
    {
        using var scope = torch.NewDisposeScope();
        using var folder = TestData.NewTempFolder();
        TfjsFixture.Write(folder.Path, seed: 3);
        string onnx = folder.File("fixture.onnx");
        TfjsLayersConverter.Convert(folder.File("model.json"), onnx, PixelValueRange.ZeroToOne);
        var generator = new torch.Generator(5);
        // 13×10: odd, non-square, so a swapped H/W or a transposed kernel cannot pass.
        var input = torch.rand([1, 13, 10, 3], float64, generator: generator);
        var expected = TfjsReference.Run(folder.File("model.json"), input);
        var actual = RunOnnx(onnx, input);
        Assert.Equal(new long[] { 1, 52, 40, 3 }, actual.shape);
        // Measured 1.9e-7 and 3.3e-7 in this and the bundled-model test (float32 against float64); a wrong channel order or kernel transpose is O(1).
        Assert.True(RelativeError(actual, expected) < 1e-5, $"relative error {RelativeError(actual, expected):E2}");
    }

    [Fact]
    public void Pixel_shuffle_is_depth_to_space_in_tensorflow_channel_order()
    {
        // The reference's depth_to_space against a hand-computed case: in[0,0,0,k] = k for 12 channels, s = 2 ⇒
        // out[i, j, c] = (i·2 + j)·3 + c. The ONNX side is covered by the fixture test, which goes through the shuffle.
        using var scope = torch.NewDisposeScope();
        using var folder = TestData.NewTempFolder();
        TfjsFixture.Write(folder.Path, seed: 1);
        var shuffle = typeof(TfjsReference).GetMethod("DepthToSpace", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        var x = torch.arange(12, dtype: float64).reshape(1, 1, 1, 12);
        var y = (Tensor)shuffle.Invoke(null, [x, 2])!;
        for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal((i * 2 + j) * 3 + c, y[0, i, j, c].item<double>());
        }
    }

    [Fact]
    public void Bundled_esrgan_slim_x4_matches_the_float64_reference_on_its_original_weights()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(11);
        var input = torch.rand([1, 17, 12, 3], float64, generator: generator) * 255; // slim works in 0-255
        var expected = TfjsReference.Run(BundledTfjs, input);
        var actual = RunOnnx(BundledOnnx, input);
        Assert.Equal(new long[] { 1, 68, 48, 3 }, actual.shape);
        // Measured at most 3.3e-7 relative to the output's peak (float32 through 12 convolutions); 30× margin.
        Assert.True(RelativeError(actual, expected) < 1e-5, $"relative error {RelativeError(actual, expected):E2}");
    }

    [Fact]
    public void Converting_the_committed_tfjs_files_again_gives_the_bundled_model_byte_for_byte()
    {
        using var folder = TestData.NewTempFolder();
        string onnx = folder.File("again.onnx");
        TfjsLayersConverter.Convert(BundledTfjs, onnx, PixelValueRange.ZeroTo255,
            "@upscalerjs/esrgan-slim 1.0.0 models/x4/model.json (licence MIT)");
        Assert.Equal(File.ReadAllBytes(BundledOnnx), File.ReadAllBytes(onnx));
    }

    [Fact]
    public void An_unknown_layer_is_refused_by_name_and_class()
    {
        using var folder = TestData.NewTempFolder();
        TfjsFixture.Write(folder.Path, seed: 2, extraLayerClass: "BatchNormalization");
        var ex = Assert.Throws<LatentIndigoException>(() =>
            TfjsLayersConverter.Convert(folder.File("model.json"), folder.File("x.onnx"), PixelValueRange.ZeroToOne));
        Assert.Contains("'odd_layer'", ex.Message);
        Assert.Contains("BatchNormalization", ex.Message);
        Assert.Contains("PixelShuffle", ex.Message); // lists what is supported
        Assert.False(File.Exists(folder.File("x.onnx")));
    }

    [Fact]
    public void A_missing_shard_or_a_graph_model_is_refused_with_the_reason()
    {
        using var folder = TestData.NewTempFolder();
        TfjsFixture.Write(folder.Path, seed: 2);
        File.Delete(folder.File("group1-shard1of1.bin"));
        var ex = Assert.Throws<LatentIndigoException>(() => TfjsLayersConverter.Convert(folder.File("model.json"), folder.File("x.onnx"), PixelValueRange.ZeroToOne));
        Assert.Contains("group1-shard1of1.bin", ex.Message);
        File.WriteAllText(folder.File("graph.json"), """{"format":"graph-model","modelTopology":{}}""");
        ex = Assert.Throws<LatentIndigoException>(() => TfjsLayersConverter.Convert(folder.File("graph.json"), folder.File("x.onnx"), PixelValueRange.ZeroToOne));
        Assert.Contains("graph-model", ex.Message);
    }
}
