using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Evaluation;

public class EvaluationPairsTests
{
    private static void Png(string path, int width, int height)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = torch.rand(1, 3, height, width);
        ImageIO.Save(image, path);
    }

    [Fact]
    public void Pairs_ground_truth_with_low_quality_images_of_the_same_name()
    {
        using var folder = TestData.NewTempFolder();
        Png(folder.File("hr/b.png"), 41, 34);
        Png(folder.File("hr/a.png"), 40, 32);
        Png(folder.File("lq/a.png"), 10, 8);
        Png(folder.File("lq/b.png"), 10, 8);
        var pairs = EvaluationPairs.FromFolders(folder.File("hr"), folder.File("lq"), 4);
        Assert.Equal(["a", "b"], pairs.Select(p => p.Name));
        Assert.Equal(folder.File("lq/b.png"), pairs[1].LowQualityPath);
        Assert.All(EvaluationPairs.FromFolders(folder.File("hr"), null, 4), p => Assert.Null(p.LowQualityPath));
    }

    [Fact]
    public void A_missing_pair_a_wrong_size_and_an_empty_folder_are_named()
    {
        using var folder = TestData.NewTempFolder();
        Png(folder.File("hr/a.png"), 40, 32);
        Png(folder.File("hr/b.png"), 40, 32);
        Png(folder.File("lq/a.png"), 10, 8);
        var missing = Assert.Throws<EvaluationInputException>(() => EvaluationPairs.FromFolders(folder.File("hr"), folder.File("lq"), 4));
        Assert.Contains(folder.File("hr/b.png"), missing.Message);

        Png(folder.File("lq/b.png"), 11, 8);
        var size = Assert.Throws<EvaluationInputException>(() => EvaluationPairs.FromFolders(folder.File("hr"), folder.File("lq"), 4));
        Assert.Contains(folder.File("lq/b.png"), size.Message);
        Assert.Contains("11×8", size.Message);

        Directory.CreateDirectory(folder.File("empty"));
        var empty = Assert.Throws<EvaluationInputException>(() => EvaluationPairs.FromFolders(folder.File("empty"), null, 4));
        Assert.Contains(folder.File("empty"), empty.Message);
    }
}
