using LatentIndigo.Diffusion;
using LatentIndigo.Weights;
using Xunit;

namespace LatentIndigo.Tests.Diffusion.Import;

/// <summary>
/// One story for users: every model the importer reads but will not import (a kind it does not run, tensors that do not
/// fit, a prediction type it cannot know) is a <see cref="ModelImportException"/> naming the source, from a diffusers
/// folder and from a single file alike; damaged files and bad options are other <see cref="LatentIndigoException"/>s;
/// nothing is written in either case.
/// </summary>
public sealed class ImportErrorTests : IDisposable
{
    private readonly TestData.TempFolder temp = TestData.NewTempFolder();

    public void Dispose() => temp.Dispose();

    private string SingleFile(TinyLdm model, IEnumerable<(string, long[])>? extra = null)
    {
        var path = temp.File(Guid.NewGuid().ToString("N")[..8] + ".safetensors");
        LdmCheckpointBuilder.Write(path, LdmCheckpointBuilder.Enumerate(model), WeightDType.Float16, extra: extra);
        return path;
    }

    private ModelImportException Refused(string source, StableDiffusionImportOptions? options = null)
    {
        var output = temp.File("out-" + Guid.NewGuid().ToString("N")[..8]);
        var e = Assert.Throws<ModelImportException>(() => StableDiffusionImport.Convert(source, output, options ?? new StableDiffusionImportOptions()));
        Assert.Equal(Path.GetFullPath(source), Path.GetFullPath(e.Origin));
        Assert.NotEmpty(e.Problems);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.EnumerateDirectories(temp.Path, ".out-*"));
        return e;
    }

    [Fact]
    public void Single_file_refusals_are_ModelImportExceptions_that_say_what_to_do()
    {
        var sdxl = Refused(SingleFile(TinyLdm.Sd1, [("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", [64])]));
        Assert.Contains("SDXL", sdxl.Message);

        var sd2 = Refused(SingleFile(TinyLdm.Sd2Runnable));
        Assert.Contains("768-pixel SD 2.x models", sd2.Message);
        Assert.Contains("--prediction-type", sd2.Message);
    }

    [Fact]
    public void A_vae_the_library_cannot_run_is_refused_before_anything_is_written()
    {
        // Two VAE levels downscale by 2: the loader refuses such an export, so the import refuses the source.
        var e = Refused(SingleFile(TinyLdm.Sd1));
        Assert.Contains("downscales by 2", e.Message);
        Assert.Contains("downscale 8", e.Message);
    }

    [Fact]
    public void Diffusers_refusals_are_ModelImportExceptions_too()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd2Tiny, predictionType: null);
        Assert.Contains("768-pixel", Refused(source.Path).Message);

        using var incomplete = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny, edit: (component, tensors) =>
        {
            if (component == "unet")
            {
                tensors.Remove("conv_out.bias");
            }
        });
        Assert.Contains("conv_out.bias", Refused(incomplete.Path).Message);
    }

    [Fact]
    public void A_damaged_file_is_a_LatentIndigoException_but_not_a_refused_model()
    {
        var path = SingleFile(TinyLdm.Sd1);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]); // truncated: tensors lie beyond the end
        var output = temp.File("out");
        var e = Assert.ThrowsAny<LatentIndigoException>(() => StableDiffusionImport.Convert(path, output));
        Assert.IsNotType<ModelImportException>(e);
        Assert.Contains("truncated", e.Message);
        Assert.False(Directory.Exists(output));
    }
}
