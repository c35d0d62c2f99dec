using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Xunit;

namespace LatentIndigo.Tests.Reliability;

/// <summary>
/// Plumbing of the fault-injection suite (<see cref="FaultInjectionTests"/>): the real command-line tool in fresh
/// processes (killed with SIGKILL at a chosen moment), the seed and size of a run, small file systems.
/// </summary>
internal static class FaultInjection
{
    /// <summary>LATENT_INDIGO_FAULT_SWEEP=N: N kill rounds per command instead of CI's <paramref name="ci"/>.</summary>
    public static int Rounds(int ci) =>
        int.TryParse(Environment.GetEnvironmentVariable("LATENT_INDIGO_FAULT_SWEEP"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : ci;

    /// <summary>LATENT_INDIGO_FAULT_SEED=S: the seed of the kill points (default 26, fixed so that CI draws the same points).</summary>
    public static int Seed =>
        int.TryParse(Environment.GetEnvironmentVariable("LATENT_INDIGO_FAULT_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : 26;

    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "latent-indigo.dll");

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    public static bool IsRoot => !OperatingSystem.IsWindows() && GetEuid() == 0;

    /// <summary>
    /// Runs <c>latent-indigo <paramref name="args"/></c> in a new process; kills it (SIGKILL) after
    /// <paramref name="killAfter"/> if it still runs. <paramref name="withoutFileOverride"/>: as root, drop the
    /// capabilities that let root read and write any file, so that permission bits apply (setpriv).
    /// </summary>
    public static CliProcessResult Run(string[] args, TimeSpan? killAfter = null, bool withoutFileOverride = false) =>
        Run(args, killAfter is null ? null : new KillPoint(() => true, killAfter.Value), withoutFileOverride);

    /// <summary>
    /// Runs the tool and kills it <see cref="KillPoint.Then"/> after <see cref="KillPoint.When"/> first holds (polled
    /// every 10 ms), if it still runs.
    /// </summary>
    public static CliProcessResult Run(string[] args, KillPoint? kill, bool withoutFileOverride = false)
    {
        var start = new ProcessStartInfo(withoutFileOverride && IsRoot ? "setpriv" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (withoutFileOverride && IsRoot)
        {
            foreach (var arg in new[] { "--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-dac_override,-dac_read_search,-fowner", "dotnet" })
            {
                start.ArgumentList.Add(arg);
            }
        }
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["COLUMNS"] = "400";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        bool killed = false;
        if (kill is not null)
        {
            while (!process.HasExited && !kill.When())
            {
                process.WaitForExit(10);
            }
            if (!process.WaitForExit(kill.Then))
            {
                process.Kill(); // SIGKILL: no handler runs, as after a crash or a power cut of the process
                killed = true;
            }
        }
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill();
            throw new TimeoutException($"latent-indigo {string.Join(' ', args)} ran over 5 minutes");
        }
        process.WaitForExit();
        return new CliProcessResult(killed ? null : process.ExitCode, stdout.Result + stderr.Result, clock.Elapsed);
    }

    /// <summary>SHA-256 of every file named <paramref name="pattern"/> in <paramref name="folder"/>, by name.</summary>
    public static SortedDictionary<string, string> Hashes(string folder, string pattern = "*.png") =>
        new(Directory.GetFiles(folder, pattern).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))),
            StringComparer.Ordinal);

    /// <summary>Runs a command line tool; returns its exit code and what it printed.</summary>
    public static (int Code, string Output) Tool(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        try
        {
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }

    private static readonly Lazy<string?> MountProblem = new(() =>
    {
        if (!OperatingSystem.IsLinux())
        {
            return "small file systems are mounted with Linux's tmpfs";
        }
        if (!IsRoot)
        {
            return "mounting a small file system needs root (the full-disk and read-only cases; run the tests as root to include them)";
        }
        string probe = Directory.CreateTempSubdirectory("latentindigo-mount-probe-").FullName;
        try
        {
            var (code, output) = Tool("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe);
            if (code != 0)
            {
                return "mount -t tmpfs failed (a container without CAP_SYS_ADMIN?): " + output.Trim();
            }
            Tool("umount", probe);
            return null;
        }
        finally
        {
            Directory.Delete(probe, recursive: true);
        }
    });

    /// <summary>Why a small tmpfs cannot be mounted here, or null when it can.</summary>
    public static string? CannotMount => MountProblem.Value;

    /// <summary>A tmpfs of <paramref name="kib"/> KiB at <paramref name="path"/>, unmounted when disposed.</summary>
    public static IDisposable MountTmpfs(string path, int kib)
    {
        Directory.CreateDirectory(path);
        var (code, output) = Tool("mount", "-t", "tmpfs", "-o", $"size={kib}k", "tmpfs", path);
        Assert.True(code == 0, "mount: " + output);
        return new Unmount(path);
    }

    /// <summary>mount -o remount,<paramref name="options"/>.</summary>
    public static void Remount(string path, string options)
    {
        var (code, output) = Tool("mount", "-o", "remount," + options, path);
        Assert.True(code == 0, "mount -o remount: " + output);
    }

    private sealed class Unmount(string path) : IDisposable
    {
        public void Dispose() => Tool("umount", "-l", path);
    }
}

/// <summary>When to kill a run: <see cref="Then"/> after <see cref="When"/> first holds.</summary>
internal sealed record KillPoint(Func<bool> When, TimeSpan Then);

/// <summary>One run of the command-line tool: its exit code (null when it was killed), what it printed, how long it ran.</summary>
internal sealed record CliProcessResult(int? Code, string Output, TimeSpan Elapsed)
{
    public bool Killed => Code is null;

    /// <summary>The output on one line (tables and wrapping undone), for Contains checks.</summary>
    public string Flat => System.Text.RegularExpressions.Regex.Replace(Output.Replace("│", " ", StringComparison.Ordinal), @"\s+", " ");
}

/// <summary>A fact that needs a small file system of its own (root and tmpfs): skipped, saying why, where there is none.</summary>
internal sealed class FileSystemFactAttribute : FactAttribute
{
    public FileSystemFactAttribute()
    {
        if (FaultInjection.CannotMount is { } reason)
        {
            Skip = reason;
        }
    }
}
