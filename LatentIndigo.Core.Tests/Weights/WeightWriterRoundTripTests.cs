using LatentIndigo.Weights;
using LatentIndigo.Weights.Torch;
using Xunit;

namespace LatentIndigo.Tests.Weights;

/// <summary>
/// The writers' files read back exactly (fp32; fp16 and bf16 from values those types hold exactly, so any byte or offset
/// error shows). That PyTorch reads them too was checked once by hand with torch.load (PyTorch 1.13.1), as
/// WeightFileFixtureTests checks the reverse direction in CI.
/// </summary>
public sealed class WeightWriterRoundTripTests : IDisposable
{
    private readonly TestData.TempFolder temp = TestData.NewTempFolder();

    public void Dispose() => temp.Dispose();

    private static List<(WeightInfo Info, float[] Values)> Tensors()
    {
        var random = new Random(5);
        // Multiples of 1/64 in [-2, 2): exact in fp16 and bf16 (at most 8 significant bits).
        float[] Values(long n) => Enumerable.Range(0, (int)n).Select(_ => random.Next(-128, 128) / 64f).ToArray();
        return
        [
            (new WeightInfo("conv.weight", WeightDType.Float32, [4, 3, 3, 3]), Values(108)),
            (new WeightInfo("conv.bias", WeightDType.Float16, [4]), Values(4)),
            (new WeightInfo("norm.weight", WeightDType.BFloat16, [5]), Values(5)),
            (new WeightInfo("scalar", WeightDType.Float64, []), Values(1)),
            (new WeightInfo("empty", WeightDType.Float32, [0, 3]), []),
        ];
    }

    private static void AssertSame(List<(WeightInfo Info, float[] Values)> expected, IWeightSource source)
    {
        Assert.Equal(expected.Select(t => t.Info.Name), source.Names);
        foreach (var (info, values) in expected)
        {
            Assert.Equal(info.ToString(), source.Info(info.Name).ToString());
            var read = new float[values.Length];
            source.ReadFloat32(info.Name, read);
            Assert.Equal(values, read);
        }
    }

    [Fact]
    public void Safetensors_round_trip_with_metadata()
    {
        var tensors = Tensors();
        var path = temp.File("w.safetensors");
        SafetensorsWriter.WriteFile(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using var source = WeightFile.Open(path);
        AssertSame(tensors, source);
        Assert.Equal("pt", ((SafetensorsFile)source).Metadata["format"]);
        // The header is padded so the data starts 8-byte aligned, as the reference writer does.
        Assert.Equal(0, (8 + BitConverter.ToInt64(File.ReadAllBytes(path), 0)) % 8);
    }

    [Fact]
    public void Torch_checkpoint_round_trip_flat_and_nested_with_extras()
    {
        var tensors = Tensors();
        var flat = temp.File("w.bin");
        TorchCheckpointWriter.WriteFile(flat, tensors);
        using (var source = WeightFile.Open(flat))
        {
            AssertSame(tensors, source);
        }
        var nested = temp.File("w.ckpt");
        TorchCheckpointWriter.WriteFile(nested, tensors, "state_dict",
            [new("global_step", 470000L), new("pytorch-lightning_version", "1.4.2"), new("loss", 0.25)]);
        using (var source = (TorchCheckpoint)WeightFile.Open(nested))
        {
            AssertSame(tensors, source);
            Assert.Equal(470000L, source.Extras["global_step"]);
            Assert.Equal("1.4.2", source.Extras["pytorch-lightning_version"]);
            Assert.Equal(0.25, source.Extras["loss"]);
        }
    }

    [Fact]
    public void Writers_refuse_out_of_order_and_incomplete_writes()
    {
        var tensors = Tensors();
        using var stream = new MemoryStream();
        using var writer = new SafetensorsWriter(stream, tensors.Select(t => t.Info).ToList());
        Assert.Throws<InvalidOperationException>(() => writer.Write("conv.bias", new float[4]));
        writer.Write("conv.weight", tensors[0].Values);
        Assert.Throws<ArgumentException>(() => writer.Write("conv.bias", new float[3]));
        Assert.Throws<InvalidOperationException>(() => writer.Complete());
    }
}
