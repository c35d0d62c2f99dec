using LatentIndigo;
using LatentIndigo.Cli;
using Spectre.Console.Testing;
using Xunit;

namespace LatentIndigo.Tests.Cli;

/// <summary>CLI output on narrow or redirected consoles, --version and the help's global switches (issue 24, item 5).</summary>
public sealed class CliOutputTests
{
    private static string[] Lines(string output) => output.Replace("\r", "", StringComparison.Ordinal).Split('\n');

    [Theory]
    [InlineData(40)]
    [InlineData(80)]
    [InlineData(200)]
    public void A_table_never_breaks_a_value_or_cuts_a_header(int width)
    {
        var console = new TestConsole();
        console.Profile.Width = width;
        string[] headers = ["image", "size", "strategy", "total", "UNet", "VAE", "INN", "consistency", "measured PSNR"];
        string[] cells = ["chelsea_x4_restored.png", "448×300", "InnOnly", "1.23 s", "—", "—", "0.80 s", "72.5 dB", "41.0 dB"];
        new CliTable("restored", headers).AddRow(cells).Write(console);

        var lines = Lines(console.Output);
        foreach (var text in headers.Concat(cells))
        {
            Assert.True(lines.Any(l => l.Contains(text, StringComparison.Ordinal)), $"'{text}' is not whole on any line at width {width}:\n{console.Output}");
        }
        Assert.All(lines, l => Assert.True(l.Length <= width, $"line longer than {width}: '{l}'"));
    }

    [Fact]
    public void Version_prints_the_library_version()
    {
        var console = new TestConsole();
        Assert.Equal(0, CliApp.Run(["--version"], default, console));
        Assert.Contains(LibraryInfo.Version, console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_verbose_switch()
    {
        var (code, text) = CliRun.Run("restore", "--help");
        Assert.Equal(0, code);
        Assert.Contains(CliApp.VerboseFlag, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Lines(text), l => l.EndsWith(' ')); // no padding at the ends of lines
        Assert.Contains(Lines(text), l => l.Contains("--seed", StringComparison.Ordinal)); // the help itself is there
    }

    [Fact]
    public void Eval_takes_output_like_the_other_commands_and_still_accepts_out()
    {
        var (code, text) = CliRun.Run("eval", "--help");
        Assert.Equal(0, code);
        Assert.Contains("-o, --output", text, StringComparison.Ordinal);
        Assert.DoesNotContain("--out ", text, StringComparison.Ordinal); // the old spelling is hidden

        // Both spellings reach the same check (an --hr folder that does not exist), not a usage error about the option.
        var (newCode, newText) = CliRun.Run("eval", "--hr", "no-such-folder-i24", "--degradation", "bicubic:x4", "-o", "x");
        var (oldCode, oldText) = CliRun.Run("eval", "--hr", "no-such-folder-i24", "--degradation", "bicubic:x4", "--out", "x");
        Assert.Equal(newCode, oldCode);
        Assert.NotEqual(2, oldCode);
        Assert.Contains("no-such-folder-i24", oldText, StringComparison.Ordinal);
        Assert.Contains("no-such-folder-i24", newText, StringComparison.Ordinal);
    }

    [Fact]
    public void Degrade_takes_its_input_positionally_or_with_i_and_defaults_to_seed_12345()
    {
        using var folder = TestData.NewTempFolder();
        string a = folder.File("a.png"), b = folder.File("b.png");

        var (code, text) = CliRun.Run("degrade", TestData.Cc0("chelsea.png"), "-d", "noise:sigma=5", "-o", a);
        Assert.True(code == 0, text);
        (code, text) = CliRun.Run("degrade", "-i", TestData.Cc0("chelsea.png"), "-d", "noise:sigma=5", "-o", b);
        Assert.True(code == 0, text);

        // Same default seed, so the same random noise: identical bytes, and the sidecar records 12345.
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("a.json")));
        Assert.Equal(12345, json.RootElement.GetProperty("seed").GetInt64());
    }
}
