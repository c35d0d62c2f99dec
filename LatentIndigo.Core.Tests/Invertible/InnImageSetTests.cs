using LatentIndigo.Invertible;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

public class InnImageSetTests
{
    [Fact]
    public void Loads_every_image_of_a_folder_sorted_by_name()
    {
        using var set = InnImageSet.FromPaths([Path.Combine(TestData.Root, "cc0")]);
        Assert.Equal(9, set.Count); // the nine CC0 photos; the licence texts are skipped
        Assert.Equal(set.Names.OrderBy(n => n, StringComparer.Ordinal), set.Names);
        Assert.All(set.Images, t => Assert.Equal(3, t.shape[0]));
    }

    [Fact]
    public void Missing_paths_empty_folders_and_wrong_shapes_are_reported()
    {
        using var folder = TestData.NewTempFolder();
        Assert.Contains("neither a folder nor a file", Assert.Throws<LatentIndigoException>(() => InnImageSet.FromPaths([folder.File("nope")])).Message);
        Assert.Contains("No images", Assert.Throws<LatentIndigoException>(() => InnImageSet.FromPaths([folder.Path])).Message);
        using var gray = zeros(1, 8, 8);
        Assert.Throws<InnInputException>(() => InnImageSet.FromTensors([gray]));
    }
}
