using LatentIndigo.Evaluation;

namespace LatentIndigo.Web.Tests;

/// <summary>
/// An <c>eval</c> output folder in a temporary place: results.csv written by the library's
/// <see cref="EvaluationReport.ToCsv"/> (two images × two strategies), chart.png, one grid and one output image.
/// </summary>
public sealed class EvalFolderFixture : IDisposable
{
    public EvalFolderFixture()
    {
        Path = Directory.CreateTempSubdirectory("latentindigo-eval-").FullName;
        EvaluationRecord Record(string image, string strategy, double psnr, double ssim) =>
            new(image, strategy, new EvaluationScores(psnr, ssim, null, null), TimeSpan.FromSeconds(2), 100L << 20);
        File.WriteAllText(System.IO.Path.Combine(Path, "results.csv"), EvaluationReport.ToCsv(
        [
            Record("a.png", "bicubic", 24.0, 0.70), Record("a.png", "inn-only", 26.0, 0.80),
            Record("b.png", "bicubic", 28.0, 0.74), Record("b.png", "inn-only", 31.0, 0.86),
        ]));
        File.WriteAllBytes(System.IO.Path.Combine(Path, "chart.png"), TestImages.Flat(40, 30));
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "grids"));
        File.WriteAllBytes(System.IO.Path.Combine(Path, "grids", "a.png"), TestImages.Flat(60, 20));
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "images", "inn-only"));
        File.WriteAllBytes(System.IO.Path.Combine(Path, "images", "inn-only", "a.png"), TestImages.Flat(8, 8));
    }

    public string Path { get; }

    /// <summary>
    /// Deletes the folder; a second call does nothing. InnOnlyFactory disposes it from WebApplicationFactory's
    /// Dispose(bool), which runs twice when xUnit disposes a class fixture (DisposeAsync, then Dispose): deleting twice
    /// threw DirectoryNotFoundException as a class cleanup failure, which fails `dotnet test` although every test passed.
    /// </summary>
    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
