using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using LatentIndigo.Cli;
using LatentIndigo.Imaging;
using LatentIndigo.Orleans.Tests.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console.Testing;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Orleans.Tests.Cli;

/// <summary>
/// Silos as real processes (<c>latent-indigo cluster silo</c>) on PostgreSQL, and the one holding the job grain killed
/// with SIGKILL mid-job: nothing of it runs on, no shutdown step, its sockets closed by the kernel.
/// </summary>
public sealed class ClusterProcessKillTests : IDisposable
{
    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "latent-indigo.dll");

    private readonly string root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "latent-indigo-cluster-kill-" + Guid.NewGuid().ToString("N"))).FullName;
    private readonly List<Process> processes = [];

    public void Dispose()
    {
        foreach (var process in processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            process.Dispose();
        }
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [PostgresFact]
    public async Task A_silo_process_holding_the_job_killed_with_SIGKILL_loses_nothing()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string postgres = PostgresFactAttribute.ConnectionString!;
        string cluster = "kill-" + Guid.NewGuid().ToString("N")[..12];
        string inputs = Directory.CreateDirectory(Path.Combine(root, "in")).FullName;
        var generator = new torch.Generator(5);
        for (int i = 0; i < 6; i++)
        {
            // 32×32: a few seconds of work per image on stand-ins, so the job is still running when its silo dies.
            using var image = torch.rand(new long[] { 1, 3, 32, 32 }, generator: generator);
            ImageIO.Save(image, Path.Combine(inputs, $"scan{i}.png"));
        }
        var settings = new ClusterRestoreSettings { Steps = 20, Strength = 0.5 };
        var console = new TestConsole();
        int batchCode = CliApp.Run(["batch", inputs, "-o", Path.Combine(root, "local"), "--stand-in", "--no-blind", "--steps", "20", "--strength", "0.5"], default, console);
        Assert.True(batchCode == 0, console.Output);

        var silos = await Task.WhenAll(StartSiloAsync(postgres, cluster), StartSiloAsync(postgres, cluster));
        var clientHost = await PostgresSilo.StartClientAsync(postgres, cluster);
        try
        {
            var grains = clientHost.Services.GetRequiredService<IClusterClient>();
            var client = new RestoreClusterClient(grains);
            string output = Directory.CreateDirectory(Path.Combine(root, "out")).FullName;
            string jobId = await client.SubmitAsync(RestoreJobSpec.FromFolders(inputs, output, settings));
            var before = await Poll(client, jobId, s => s.Done >= 1);

            var jobSilo = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<IRestoreJobGrain>(jobId));
            var victim = silos.Single(s => s.Port == jobSilo?.Endpoint.Port);
            victim.Process.Kill(); // SIGKILL
            Assert.True(victim.Process.WaitForExit(10_000));
            await StartSiloAsync(postgres, cluster);

            var status = await Poll(client, jobId, s => s.Finished);
            Assert.Equal((6, 6, 0), (status.Total, status.Done, status.Failed));
            Assert.Empty(status.Failures);
            foreach (var (uri, hash) in before.Outputs)
            {
                Assert.Equal(hash, status.Outputs[uri]);
            }
            Assert.Equal(Hashes(Path.Combine(root, "local")), Hashes(output));
            Assert.Empty(Directory.GetFiles(output, ".*.tmp"));
        }
        finally
        {
            await PostgresSilo.StopAsync(clientHost);
        }
    }

    private async Task<(Process Process, int Port)> StartSiloAsync(string postgres, string cluster)
    {
        int port = FreePort(), gateway = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { CliDll, "cluster", "silo", "--cluster-id", cluster, "--stand-in", "--lease-timeout", "5",
                     "--port", port.ToString(CultureInfo.InvariantCulture), "--gateway-port", gateway.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["LATENTINDIGO_POSTGRES"] = postgres; // not on the command line
        start.Environment["COLUMNS"] = "300";
        // The stand-in models go under the test's folder: a killed silo cannot remove its own, the test's clean-up does.
        start.Environment["TMPDIR"] = Directory.CreateDirectory(Path.Combine(root, "tmp")).FullName;
        var process = Process.Start(start)!;
        processes.Add(process);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }
            if (e.Data?.Contains("is up", StringComparison.Ordinal) == true)
            {
                up.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = await Task.WhenAny(up.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3)));
        if (started != up.Task)
        {
            lock (log)
            {
                Assert.Fail("the silo did not come up: " + log);
            }
        }
        return (process, port);
    }

    // Retries: calls fail or time out until the cluster has declared the killed silo dead.
    private static async Task<ClusterJobStatus> Poll(RestoreClusterClient client, string jobId, Func<ClusterJobStatus, bool> until)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        while (true)
        {
            try
            {
                var status = await client.GetStatusAsync(jobId);
                if (until(status))
                {
                    return status;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !timeout.IsCancellationRequested)
            {
            }
            await Task.Delay(200, timeout.Token);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Dictionary<string, string> Hashes(string folder) => Directory.GetFiles(folder, "*.png")
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}
