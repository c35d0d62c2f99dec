using System.Diagnostics;
using Xunit;

namespace LatentIndigo.Tests.Cli;

/// <summary>
/// The command-line sample in a process of its own, the way a user runs it: nothing from libtorch may reach the
/// console. On CPUs NNPACK does not recognise, libtorch prints "Could not initialize NNPACK! Reason: Unsupported
/// hardware" (its logging format starts lines with "[W"), which the library prevents by turning NNPACK off (docs/cpu.md).
/// </summary>
public class ConsoleCleanlinessTests
{
    [Fact]
    public async Task A_guided_stand_in_restore_prints_nothing_from_libtorch()
    {
        using var folder = TestData.NewTempFolder();
        string cli = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "latent-indigo.exe" : "latent-indigo");
        Assert.True(File.Exists(cli), $"the sample's app host is missing at {cli}");
        var start = new ProcessStartInfo(cli)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --no-blind keeps the run as it was before blind refinement became the default (issue 12): the refinement's
        // backward passes at 448×300 pushed it past the 5-minute limit on a loaded 2-core machine.
        foreach (var arg in new[] { "restore", Path.Combine(TestData.Root, "lq", "chelsea_x4.png"), "-o", folder.File("out.png"),
                     "--stand-in", "--strategy", "pixel", "--steps", "4", "--strength", "0.5", "--no-blind" })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdoutRead = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        string stdout = await stdoutRead;
        string errors = await stderr;
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}\n{stdout}\n{errors}");
        string all = stdout + errors;
        Assert.DoesNotContain("NNPACK", all);
        Assert.DoesNotContain(all.Split('\n'), line => line.StartsWith("[W", StringComparison.Ordinal) || line.StartsWith("[E", StringComparison.Ordinal));
        Assert.True(errors.Trim().Length == 0, $"unexpected output on stderr:\n{errors}");
        // Redirected output gets plain progress lines (no carriage returns), through to the end of the restore.
        Assert.DoesNotContain('\r', stdout);
        Assert.Contains("chelsea_x4.png: step 2/2", stdout);
        Assert.Contains("chelsea_x4.png: done", stdout);
    }
}
