using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;

namespace LatentIndigo.Tests.Diffusion.Models;

public class TextConditioningTests
{
    [Fact]
    public void Tokenizer_FollowsClipConventions()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        var tokenizer = ClipTokenizer.Load(Path.Combine(folder.Path, "tokenizer"));
        var vocab = StandInTokenizerFiles.Vocabulary();
        var ids = tokenizer.Encode("A  photo of a CAT");
        var expectedWords = new[] { "a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>" }.Select(t => vocab[t]).ToArray();
        Assert.Equal(77, ids.Length);
        Assert.Equal(StandInTokenizerFiles.StartOfText, ids[0]);
        Assert.Equal(expectedWords, ids[1..6]);
        Assert.Equal(StandInTokenizerFiles.EndOfText, ids[6]);
        Assert.All(ids[7..], id => Assert.Equal(StandInTokenizerFiles.EndOfText, id));

        // A word with no merges falls back to byte symbols: "dog" = d, o, g</w>.
        Assert.Equal(new[] { vocab["d"], vocab["o"], vocab["g</w>"] }, tokenizer.Encode("dog")[1..4]);

        var empty = tokenizer.Encode("");
        Assert.Equal(new[] { StandInTokenizerFiles.StartOfText, StandInTokenizerFiles.EndOfText }, empty[..2]);

        var longPrompt = tokenizer.Encode(string.Join(' ', Enumerable.Repeat("cat", 200)));
        Assert.Equal(StandInTokenizerFiles.EndOfText, longPrompt[76]);
        Assert.Equal(vocab["cat</w>"], longPrompt[75]);
    }

    [Fact]
    public void Embeddings_HaveTheTextEncoderShapeAndValues_AndAreCached()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Float16 = true });
        using var models = StableDiffusionModels.Load(folder.Path);
        var c1 = models.EncodePrompt("a photo of a cat");
        Assert.Equal(new long[] { 1, 77, 32 }, c1.Conditional.shape);
        Assert.Null(c1.Unconditional);
        Assert.False(c1.UsesGuidance);
        using var expected = TextEmbeddings(models.Tokenizer.Encode("a photo of a cat"), 32);
        double scale = expected.abs().max().item<double>(); // ids up to 49407: fp16 keeps ~3 significant digits
        Assert.True(MaxAbsDiff(expected, c1.Conditional) < 1e-3 * scale);

        var c2 = models.EncodePrompt("a photo of a cat");
        Assert.Same(c1.Conditional, c2.Conditional);
        Assert.Equal(1, models.TextEncoderRuns);

        var defaultPrompt = models.EncodePrompt();
        Assert.Equal("", defaultPrompt.Prompt);
        Assert.Equal(2, models.TextEncoderRuns);
    }

    [Fact]
    public void ClassifierFreeGuidance_CombinesBothBranches()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        using var models = StableDiffusionModels.Load(folder.Path);
        var conditioning = models.EncodePrompt("a photo of a cat", "blurry", 7.5);
        Assert.True(conditioning.UsesGuidance);
        Assert.Equal("blurry", conditioning.NegativePrompt);
        Assert.Equal(2, models.TextEncoderRuns);
        using var latents = RandomNormal(1, 2, 4, 8, 8);
        var guided = models.Unet.PredictNoise(latents, 301, conditioning);
        using var u = UnetOutput(latents, 301, conditioning.Unconditional!.expand(2, -1, -1));
        using var c = UnetOutput(latents, 301, conditioning.Conditional.expand(2, -1, -1));
        using var expected = u + (c - u) * 7.5;
        double scale = expected.abs().max().item<double>(); // float32 rounding relative to the values' size
        Assert.True(MaxAbsDiff(expected, guided) < 1e-5 * scale, $"max diff {MaxAbsDiff(expected, guided)} at scale {scale}");
        Assert.Throws<ArgumentOutOfRangeException>(() => models.EncodePrompt("x", null, double.NaN));
    }
}
