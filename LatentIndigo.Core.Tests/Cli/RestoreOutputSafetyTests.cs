using LatentIndigo.Imaging;
using Xunit;

namespace LatentIndigo.Tests.Cli;

/// <summary>
/// restore never loses data: outputs that cannot be written, collide, or would replace the result or an input are refused
/// before any work starts, with exit code 1, one readable line and nothing written.
/// </summary>
public class RestoreOutputSafetyTests
{
    private static string SmallLq => Path.Combine(TestData.Root, "lq", "chelsea_x4.png");

    [Fact]
    public void Output_under_a_file_is_refused_naming_the_folder()
    {
        using var folder = TestData.NewTempFolder();
        File.WriteAllText(folder.File("file"), "not a folder");
        var (code, output) = CliRun.Run("restore", SmallLq, "-o", folder.File("file/sub/x.png"));
        Assert.Equal(1, code);
        Assert.Contains("file/sub/x.png", output);
        Assert.Contains("is a file", output);
        Assert.False(CliRun.HasStackTrace(output), output);
    }

    [Fact]
    public void Output_folder_that_cannot_be_created_is_refused_even_for_root()
    {
        // /proc refuses new folders whatever the user, so this fails as root too (a chmod'ed folder would not).
        var (code, output) = CliRun.Run("restore", SmallLq, "-o", "/proc/latent-indigo-test/sub/x.png");
        Assert.Equal(1, code);
        Assert.Contains("/proc/latent-indigo-test/sub", output);
        Assert.Contains("cannot be created or written to", output);
        Assert.False(CliRun.HasStackTrace(output), output);
    }

    [Fact]
    public void Read_only_output_folder_is_refused_before_any_work()
    {
        if (Environment.UserName == "root" || OperatingSystem.IsWindows())
        {
            return; // root writes anywhere; the /proc test above covers the message for root
        }
        using var folder = TestData.NewTempFolder();
        var readOnly = Directory.CreateDirectory(folder.File("ro")).FullName;
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var (code, output) = CliRun.Run("restore", SmallLq, "-o", Path.Combine(readOnly, "sub", "x.png"));
            Assert.Equal(1, code);
            Assert.Contains("cannot be created or written to", output);
        }
        finally
        {
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void Output_equal_to_input_is_refused_without_suggesting_force()
    {
        using var folder = TestData.NewTempFolder();
        string input = folder.File("in.png");
        File.Copy(SmallLq, input);
        var before = File.ReadAllBytes(input);
        foreach (var extra in new[] { Array.Empty<string>(), ["--force"] })
        {
            var (code, output) = CliRun.Run(["restore", input, "-o", input, .. extra]);
            Assert.Equal(1, code);
            Assert.Contains("is the input image", output);
            Assert.DoesNotContain("pass --force", output);
        }
        Assert.Equal(before, File.ReadAllBytes(input));
    }

    [Fact]
    public void Two_inputs_with_the_same_name_are_refused_before_any_work()
    {
        using var folder = TestData.NewTempFolder();
        var inputs = Directory.CreateDirectory(folder.File("in")).FullName;
        File.Copy(SmallLq, Path.Combine(inputs, "a.png"));
        File.Copy(SmallLq, Path.Combine(inputs, "b.png"));
        ImageIO.Save(ImageIO.Load(SmallLq), Path.Combine(inputs, "a.jpg"));
        var outputs = folder.File("out");
        foreach (var extra in new[] { Array.Empty<string>(), ["--force"] })
        {
            var (code, output) = CliRun.Run(["restore", inputs, "-o", outputs, .. extra]);
            Assert.Equal(1, code);
            Assert.Contains("a.jpg and a.png", output);
            Assert.Contains(Path.Combine(outputs, "a.png"), output);
            Assert.False(Directory.Exists(outputs) && Directory.EnumerateFileSystemEntries(outputs).Any(), "something was written");
        }
    }

    [Fact]
    public void Compare_equal_to_output_or_input_is_refused()
    {
        using var folder = TestData.NewTempFolder();
        string input = folder.File("in.png");
        File.Copy(SmallLq, input);
        string result = folder.File("out.png");
        var (code, output) = CliRun.Run("restore", input, "-o", result, "--compare", Path.Combine(folder.Path, ".", "out.png"), "--force");
        Assert.Equal(1, code);
        Assert.Contains("--compare", output);
        Assert.Contains("same file as -o", output);
        Assert.False(File.Exists(result));

        (code, output) = CliRun.Run("restore", input, "-o", result, "--compare", input, "--force");
        Assert.Equal(1, code);
        Assert.Contains("--compare", output);
        Assert.Contains("input", output);
        Assert.False(File.Exists(result));
    }

    [Fact]
    public void Existing_outputs_of_a_folder_run_are_refused_before_the_first_image_is_restored()
    {
        using var folder = TestData.NewTempFolder();
        var inputs = Directory.CreateDirectory(folder.File("in")).FullName;
        File.Copy(SmallLq, Path.Combine(inputs, "a.png"));
        File.Copy(SmallLq, Path.Combine(inputs, "b.png"));
        var outputs = Directory.CreateDirectory(folder.File("out")).FullName;
        File.WriteAllText(Path.Combine(outputs, "b.png"), "keep me");
        var (code, output) = CliRun.Run("restore", inputs, "-o", outputs);
        Assert.Equal(1, code);
        Assert.Contains("b.png", output);
        Assert.Contains("--force", output);
        Assert.False(File.Exists(Path.Combine(outputs, "a.png")), "a.png was restored before the refusal");
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(outputs, "b.png")));
    }
}
