using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using LatentIndigo.Cli;
using LatentIndigo.Imaging;
using LatentIndigo.Orleans.Tests.Postgres;
using Spectre.Console.Testing;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Orleans.Tests.Cli;

/// <summary>The CLI's cluster verbs, run in-process as the CLI tests of the core library run theirs.</summary>
public sealed class ClusterCommandTests : IDisposable
{
    private readonly string root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "latent-indigo-cluster-cli-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Output) Run(params string[] args)
    {
        var console = new TestConsole();
        console.Profile.Width = 400;
        int code = CliApp.Run(args, default, console);
        return (code, console.Output);
    }

    [PostgresFact]
    public async Task A_silo_started_by_the_cli_restores_a_submitted_job_with_the_bytes_of_batch_and_jobs_can_be_watched_and_cancelled()
    {
        string postgres = PostgresFactAttribute.ConnectionString!;
        string cluster = "cli-" + Guid.NewGuid().ToString("N")[..12];
        string inputs = Directory.CreateDirectory(Path.Combine(root, "in")).FullName;
        var generator = new torch.Generator(11);
        for (int i = 0; i < 3; i++)
        {
            using var image = torch.rand(new long[] { 1, 3, 16, 16 }, generator: generator);
            ImageIO.Save(image, Path.Combine(inputs, $"photo{i}.png"));
        }
        string[] settings = ["--steps", "10", "--strength", "0.5"];
        // --no-blind: cluster jobs are not blind unless asked (ClusterRestoreSettings.Blind), batch is unless told not to.
        var batch = Run(["batch", inputs, "-o", Path.Combine(root, "local"), "--stand-in", "--no-blind", .. settings]);
        Assert.True(batch.Code == 0, batch.Output);

        using var stop = new CancellationTokenSource();
        var siloConsole = new TestConsole();
        siloConsole.Profile.Width = 400;
        var silo = Task.Factory.StartNew(() => CliApp.Run(
            ["cluster", "silo", "--postgres", postgres, "--cluster-id", cluster, "--stand-in", "--port", FreePort(), "--gateway-port", FreePort()],
            stop.Token, siloConsole), TaskCreationOptions.LongRunning);
        try
        {
            await WaitForAsync(() => SafeOutput(siloConsole).Contains("is up", StringComparison.Ordinal) || silo.IsCompleted);
            Assert.False(silo.IsCompleted, SafeOutput(siloConsole));
            string[] target = ["--postgres", postgres, "--cluster-id", cluster];

            var submit = Run(["cluster", "submit", inputs, "-o", Path.Combine(root, "out"), "--job-id", "job-a", "--watch", .. target, .. settings]);
            Assert.True(submit.Code == 0, submit.Output);
            Assert.Contains("Submitted job job-a: 3 image(s)", submit.Output);
            Assert.Contains("3/3 done, 0 running, 0 failed", submit.Output);
            Assert.Equal(Hashes(Path.Combine(root, "local")), Hashes(Path.Combine(root, "out")));

            var status = Run(["cluster", "status", "job-a", .. target]);
            Assert.True(status.Code == 0, status.Output);
            Assert.Contains("Job job-a: 3 of 3 done, 0 failed", status.Output);

            // Cancel: whether it lands before or after the last image, the job ends as cancelled and watch says so.
            var second = Run(["cluster", "submit", inputs, "-o", Path.Combine(root, "out2"), "--job-id", "job-b", .. target, .. settings]);
            Assert.True(second.Code == 0, second.Output);
            var cancel = Run(["cluster", "cancel", "job-b", .. target]);
            Assert.True(cancel.Code == 0, cancel.Output);
            Assert.Contains("Cancelled job job-b", cancel.Output);
            var watch = Run(["cluster", "watch", "job-b", .. target]);
            Assert.Equal(1, watch.Code);
            Assert.Contains("Job job-b was cancelled", watch.Output);

            var unknown = Run(["cluster", "watch", "no-such-job", .. target]);
            Assert.Equal(1, unknown.Code);
            Assert.Contains("No job 'no-such-job' in this cluster", unknown.Output);
        }
        finally
        {
            stop.Cancel();
        }
        Assert.Equal(0, await silo);
        Assert.Contains("Silo stopped.", SafeOutput(siloConsole));
    }

    [Fact]
    public void A_malformed_connection_string_is_one_line_naming_the_expected_form()
    {
        var (code, output) = Run("cluster", "status", "some-job", "--postgres", "Hots=db");
        Assert.Equal(1, code);
        Assert.Contains("--postgres: Not a PostgreSQL connection string", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void An_unreachable_database_is_one_line_naming_host_port_and_database()
    {
        var (code, output) = Run("cluster", "cancel", "some-job", "--postgres", "Host=127.0.0.1;Port=1;Username=u;Password=hidden;Database=jobs");
        Assert.Equal(1, code);
        Assert.Contains("Cannot use PostgreSQL at 127.0.0.1:1, database 'jobs', user 'u'", output);
        Assert.DoesNotContain("hidden", output);
        Assert.DoesNotContain("   at ", output);
    }

    private static string SafeOutput(TestConsole console)
    {
        // The silo writes from its own thread; a read that races a write is simply retried by the caller.
        try
        {
            return console.Output;
        }
        catch (InvalidOperationException)
        {
            return "";
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        while (!condition())
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string> Hashes(string folder) => Directory.GetFiles(folder, "*.png")
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}
