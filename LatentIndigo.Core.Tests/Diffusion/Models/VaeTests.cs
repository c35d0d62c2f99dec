using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Diffusion.Models;

public class VaeTests
{
    [Theory]
    [InlineData(false, StandInEncoderOutput.LatentSample, 4)]
    [InlineData(false, StandInEncoderOutput.LatentParameters, 4)]
    [InlineData(true, StandInEncoderOutput.LatentParameters, 3)]
    [InlineData(true, StandInEncoderOutput.LatentSample, 5)]
    public void Encode_IsScaledMeanOfTheEncoder(bool fp16, StandInEncoderOutput variant, int channels)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Float16 = fp16, EncoderOutput = variant, LatentChannels = channels });
        using var models = StableDiffusionModels.Load(folder.Path);
        using var image = RandomUniform(1, 1, 3, 32, 48);
        using var latents = models.Vae.Encode(image);
        Assert.Equal(new long[] { 1, channels, 4, 6 }, latents.shape);
        Assert.Equal(ScalarType.Float32, latents.dtype);
        using var expected = EncodedLatents(image, channels, 0.18215);
        Assert.True(MaxAbsDiff(expected, latents) < (fp16 ? 2e-3 : 1e-5), $"max diff {MaxAbsDiff(expected, latents)}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DecodeOfEncode_IsTheBlockAverage(bool fp16)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Float16 = fp16 });
        using var models = StableDiffusionModels.Load(folder.Path);
        using var image = RandomUniform(2, 2, 3, 16, 24);
        using var latents = models.Vae.Encode(image);
        using var decoded = models.Vae.Decode(latents);
        Assert.Equal(image.shape, decoded.shape);
        using var blockAverage = torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(image, 8, 8), scale_factor: [8.0, 8.0], mode: InterpolationMode.Nearest);
        Assert.True(MaxAbsDiff(blockAverage, decoded) < (fp16 ? 5e-3 : 1e-5), $"max diff {MaxAbsDiff(blockAverage, decoded)}");
        // The returned tensors are the caller's: decoding again must not change the first result.
        using var copy = decoded.clone();
        using var other = models.Vae.Decode(latents * 0);
        Assert.Equal(0, MaxAbsDiff(copy, decoded));
    }

    [Theory]
    [InlineData(64, 16)]
    [InlineData(48, 0)]
    [InlineData(128, 32)]
    public void TiledEncodeAndDecode_MatchWholeImage(int tile, int overlap)
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var image = RandomUniform(3, 1, 3, 200, 136);
        var tiling = new VaeTiling(tile, overlap);
        var reports = new List<double>();
        using var whole = models.Vae.Encode(image);
        using var tiled = models.Vae.Encode(image, tiling, new SyncProgress(reports));
        Assert.True(MaxAbsDiff(whole, tiled) < 1e-5, $"encode max diff {MaxAbsDiff(whole, tiled)}");
        Assert.True(reports.Count > 1);
        Assert.Equal(1.0, reports[^1], 12);
        using var decodedWhole = models.Vae.Decode(whole);
        using var decodedTiled = models.Vae.Decode(whole, tiling);
        Assert.True(MaxAbsDiff(decodedWhole, decodedTiled) < 1e-5, $"decode max diff {MaxAbsDiff(decodedWhole, decodedTiled)}");
    }

    [Fact]
    public void TileStarts_CoverTheImageWithEqualTiles()
    {
        Assert.Equal(new[] { 0, 48, 72 }, VaeTiling.Starts(136, 64, 16));
        Assert.Equal(new[] { 0 }, VaeTiling.Starts(40, 64, 16));
        var ramp = VaeTiling.Ramp(8, 4, true, false);
        Assert.Equal(new[] { 0.125f, 0.375f, 0.625f, 0.875f, 1f, 1f, 1f, 1f }, ramp);
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeTiling(60, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeTiling(64, 64));
    }

    [Fact]
    public void BadImages_AreRejectedClearly()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var odd = RandomUniform(4, 1, 3, 30, 32);
        Assert.Contains("multiples of 8", Assert.Throws<ArgumentException>(() => models.Vae.Encode(odd)).Message);
        using var gray = RandomUniform(4, 1, 1, 32, 32);
        Assert.Contains("[batch, 3, height, width]", Assert.Throws<ArgumentException>(() => models.Vae.Encode(gray)).Message);
        using var nan = torch.full([1, 3, 32, 32], float.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => models.Vae.Encode(nan)).Message);
        using var badLatents = RandomNormal(5, 1, 3, 4, 4);
        Assert.Contains("[batch, 4, height, width]", Assert.Throws<ArgumentException>(() => models.Vae.Decode(badLatents)).Message);
    }

    private sealed class SyncProgress(List<double> reports) : IProgress<double>
    {
        public void Report(double value) => reports.Add(value);
    }
}
