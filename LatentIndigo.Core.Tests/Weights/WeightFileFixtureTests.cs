using LatentIndigo.Weights;
using LatentIndigo.Weights.Torch;
using Xunit;

namespace LatentIndigo.Tests.Weights;

/// <summary>
/// Reads files written by PyTorch 1.13 itself (Debian's python3-torch; Weights/Fixtures/make_fixtures.py) and a
/// safetensors file laid out by hand from the published format. The expected values are those the script stored; the
/// fp16/bf16 ones were rounded by PyTorch and are checked against hand-computed roundings (see the comments).
/// </summary>
public class WeightFileFixtureTests
{
    private static readonly float[] Base = [-0.5f, -0.25f, 0f, 0.25f, 0.5f, 0.75f];

    // Probe values 0.1, 1/3, -2.5, 65504 rounded to the nearest representable value, by hand:
    // fp16: 0.1 = 1.6·2^-4 -> 10-bit mantissa 0x266 -> 0.0999755859375; 1/3 -> 0x555 at 2^-2 -> 0.333251953125; 65504 = max half.
    private static readonly float[] ProbeHalf = [0.0999755859375f, 0.333251953125f, -2.5f, 65504f];

    // bf16 keeps the upper 16 bits of the float32, rounded to nearest even: 0.1f = 0x3DCCCCCD -> 0x3DCD = 0.10009765625;
    // 1/3 = 0x3EAAAAAB -> 0x3EAB = 0.333984375; 65504 = 0x477FE000 -> 0x4780 = 65536.
    private static readonly float[] ProbeBf16 = [0.10009765625f, 0.333984375f, -2.5f, 65536f];

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Weights", "Fixtures", name);

    private static float[] Read(IWeightSource source, string name)
    {
        var values = new float[source.Info(name).ElementCount];
        source.ReadFloat32(name, values);
        return values;
    }

    [Fact]
    public void Torch_save_flat_state_dict_reads_every_dtype_view_and_offset()
    {
        using var source = WeightFile.Open(Fixture("torch_flat.bin"));
        Assert.IsType<TorchCheckpoint>(source);
        Assert.Equal(["a.weight", "b.half", "c.bf16", "d.double", "e.ids", "f.transposed", "g.slice"], source.Names);
        Assert.Equal(new WeightInfo("a.weight", WeightDType.Float32, [2, 3]).ToString(), source.Info("a.weight").ToString());
        Assert.Equal(WeightDType.Float16, source.Info("b.half").DType);
        Assert.Equal(WeightDType.BFloat16, source.Info("c.bf16").DType);
        Assert.Equal(WeightDType.Int64, source.Info("e.ids").DType);
        Assert.Equal(Base, Read(source, "a.weight"));
        Assert.Equal(ProbeHalf, Read(source, "b.half"));
        Assert.Equal(ProbeBf16, Read(source, "c.bf16"));
        Assert.Equal([1.5f, -0.125f, 1e-3f], Read(source, "d.double"));
        // base.t(): shape [3, 2], element [i, j] = base[j, i].
        Assert.Equal([3L, 2L], source.Info("f.transposed").Shape);
        Assert.Equal([-0.5f, 0.25f, -0.25f, 0.5f, 0f, 0.75f], Read(source, "f.transposed"));
        // base.reshape(-1)[2:5]: storage offset 2.
        Assert.Equal([0f, 0.25f, 0.5f], Read(source, "g.slice"));
        var ex = Assert.Throws<WeightFileException>(() => source.ReadFloat32("e.ids", new float[3]));
        Assert.Contains("e.ids", ex.Message);
        Assert.Contains("Int64", ex.Message);
    }

    [Fact]
    public void Lightning_ckpt_exposes_the_state_dict_and_keeps_other_entries_aside()
    {
        using var source = WeightFile.Open(Fixture("lightning.ckpt"));
        Assert.Equal(["model.x.weight", "model.y.bias"], source.Names);
        Assert.Equal(Base, Read(source, "model.x.weight"));
        Assert.Equal(ProbeHalf, Read(source, "model.y.bias"));
        var extras = ((TorchCheckpoint)source).Extras;
        Assert.Equal(1234L, extras["global_step"]);
        Assert.Equal(3L, extras["epoch"]);
        Assert.Equal("1.9.0", extras["pytorch-lightning_version"]);
    }

    [Fact]
    public void Safetensors_laid_out_from_the_published_format_reads()
    {
        using var source = WeightFile.Open(Fixture("handmade.safetensors"));
        var file = Assert.IsType<SafetensorsFile>(source);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(Base, Read(source, "a.weight"));
        Assert.Equal(ProbeHalf, Read(source, "b.half"));
        Assert.Equal(ProbeBf16, Read(source, "c.bf16"));
    }

    [Fact]
    public void Pickle_that_calls_os_system_is_refused_naming_the_global()
    {
        // torch.save pickled an object whose __reduce__ is os.system (posix.system on Linux).
        var ex = Assert.Throws<WeightFileException>(() => WeightFile.Open(Fixture("evil.pt")));
        Assert.Contains("'posix.system'", ex.Message);
        Assert.Contains("evil.pt", ex.Message);
    }

    [Fact]
    public void Legacy_torch_file_is_refused_with_how_to_resave()
    {
        var ex = Assert.Throws<WeightFileException>(() => WeightFile.Open(Fixture("legacy.pt")));
        Assert.Contains("legacy format", ex.Message);
        Assert.Contains("torch.save", ex.Message);
    }

    [Fact]
    public void Unknown_tensor_name_is_a_clear_error_naming_the_file()
    {
        using var source = WeightFile.Open(Fixture("handmade.safetensors"));
        Assert.False(source.Contains("nope"));
        var ex = Assert.Throws<WeightFileException>(() => source.Info("nope"));
        Assert.Contains("'nope'", ex.Message);
        Assert.Contains("handmade.safetensors", ex.Message);
    }
}
