using LatentIndigo.Fuzz;
using Xunit;

namespace LatentIndigo.Tests.Fuzz;

/// <summary>
/// Replays the fuzzing corpus (fuzz/corpus, including inputs that once crashed a target) through the same targets the
/// SharpFuzz harness runs, so a fixed crash stays fixed without AFL.
/// </summary>
public class FuzzCorpusTests
{
    private static string Corpus => Path.Combine(AppContext.BaseDirectory, "fuzz-corpus");

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.All.Keys)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Corpus, target)).Order(StringComparer.Ordinal))
            {
                data.Add(target, Path.GetFileName(file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Corpus_input_runs_without_an_unexpected_exception(string target, string file)
    {
        FuzzTargets.All[target](File.ReadAllBytes(Path.Combine(Corpus, target, file)));
    }

    [Fact]
    public void Every_target_has_a_corpus()
    {
        foreach (var target in FuzzTargets.All.Keys)
        {
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(Corpus, target)));
        }
    }
}
