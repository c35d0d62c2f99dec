using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using Xunit;

namespace LatentIndigo.Orleans.Tests;

/// <summary>Cluster jobs on a real in-process multi-silo Orleans cluster with stand-in models.</summary>
public class ClusterJobTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    // Generous: under heavy load (four engineers on 2 cores) one image of the fixture took minutes.
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(10);

    private static Dictionary<string, string> Hashes(string folder) => Directory.GetFiles(folder, "*.png")
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))).ToLowerInvariant());

    private string NewOutputFolder() => Directory.CreateDirectory(Path.Combine(fixture.Root, "out-" + Guid.NewGuid().ToString("N"))).FullName;

    private static async Task<ClusterJobStatus> Watch(RestoreClusterClient client, string jobId)
    {
        using var timeout = new CancellationTokenSource(JobTimeout);
        return await client.WatchAsync(jobId, null, TimeSpan.FromMilliseconds(200), timeout.Token);
    }

    [Fact]
    public async Task Two_worker_silos_restore_a_collection_with_the_bytes_of_the_local_batch()
    {
        // Reads held for a second: a worker cannot finish the whole job before the other one polls (every 0.2 s).
        await using var cluster = await fixture.StartClusterAsync(workerSilos: 2, leaseTimeout: TimeSpan.FromSeconds(60), readDelay: TimeSpan.FromSeconds(1));
        string output = NewOutputFolder();
        var client = new RestoreClusterClient(cluster.Client);
        string jobId = await client.SubmitAsync(RestoreJobSpec.FromFolders(fixture.Inputs, output, ClusterFixture.Settings));
        var status = await Watch(client, jobId);

        Assert.Equal((4, 4, 0), (status.Total, status.Done, status.Failed));
        Assert.Equal(fixture.Reference, Hashes(output));
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
        // Worker grains exist only where a model set is hosted: the primary silo's grain classes leave them out.
        foreach (var silo in cluster.Silos)
        {
            var classes = silo.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<GrainTypeOptions>>().Value.Classes;
            Assert.Equal(silo.Name != fixture.JobSiloName, classes.Contains(typeof(RestoreWorkerGrain)));
        }
        // Both worker silos restored images; the silo without models none.
        var bySilo = cluster.Silos.ToDictionary(silo => silo.Name, silo => status.DoneBy
            .Where(w => w.Key.StartsWith(silo.SiloAddress.ToParsableString() + "/", StringComparison.Ordinal)).Sum(w => w.Value));
        Assert.Equal(4, bySilo.Values.Sum());
        Assert.Equal(3, bySilo.Count);
        Assert.Equal(0, bySilo[fixture.JobSiloName]);
        Assert.True(bySilo.Where(s => s.Key != fixture.JobSiloName).All(s => s.Value > 0), string.Join(", ", bySilo));
    }

    [Fact]
    public async Task A_worker_silo_killed_mid_job_loses_and_duplicates_nothing()
    {
        // A short lease, so the killed silo's image is handed on quickly (workers renew every 0.5 s).
        // Reads held for a second, so the job is still running when the silo is killed.
        await using var cluster = await fixture.StartClusterAsync(workerSilos: 2, leaseTimeout: TimeSpan.FromSeconds(5), readDelay: TimeSpan.FromSeconds(1));
        string output = NewOutputFolder();
        var client = new RestoreClusterClient(cluster.Client);
        string jobId = await client.SubmitAsync(RestoreJobSpec.FromFolders(fixture.Inputs, output, ClusterFixture.Settings));

        // Kill a worker silo as soon as it runs an image (its first: the slowest, as its pipeline warms up).
        InProcessSiloHandle? victim = null;
        using (var timeout = new CancellationTokenSource(JobTimeout))
        {
            while (victim is null)
            {
                var now = await client.GetStatusAsync(jobId);
                victim = cluster.Silos.Where(s => s.Name != fixture.JobSiloName).FirstOrDefault(s => now.RunningOn.Any(w => w.StartsWith(s.SiloAddress.ToParsableString() + "/", StringComparison.Ordinal)));
                Assert.False(now.Finished, "the job finished before a silo could be killed");
                if (victim is null)
                {
                    await Task.Delay(50, timeout.Token);
                }
            }
        }
        await cluster.KillSiloAsync(victim);
        var status = await Watch(client, jobId);

        Assert.Equal((4, 4, 0), (status.Total, status.Done, status.Failed));
        Assert.True(status.Reassigned >= 1, "the killed silo's image was not handed out again");
        Assert.Empty(status.Failures);
        Assert.Equal(fixture.Reference, Hashes(output)); // each output once, with the local batch's bytes
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
    }

    [Fact]
    public async Task Cancelling_a_job_stops_handing_out_images_and_leaves_no_partial_output()
    {
        // Reads held for a second, so images are left to cancel once the first is done.
        await using var cluster = await fixture.StartClusterAsync(workerSilos: 1, leaseTimeout: TimeSpan.FromSeconds(60), readDelay: TimeSpan.FromSeconds(1));
        string output = NewOutputFolder();
        var client = new RestoreClusterClient(cluster.Client);
        string jobId = await client.SubmitAsync(RestoreJobSpec.FromFolders(fixture.Inputs, output, ClusterFixture.Settings));
        using (var timeout = new CancellationTokenSource(JobTimeout))
        {
            while ((await client.GetStatusAsync(jobId)).Done < 1)
            {
                await Task.Delay(100, timeout.Token);
            }
        }
        await client.CancelAsync(jobId);
        var status = await Watch(client, jobId);

        Assert.True(status.Cancelled);
        Assert.True(status.Done < 4, $"{status.Done} done");
        Assert.Null(await cluster.Client.GetGrain<IRestoreJobGrain>(jobId).NextAsync("probe"));
        // Whatever was written is a whole output with the local batch's bytes.
        foreach (var (name, hash) in Hashes(output))
        {
            Assert.Equal(fixture.Reference[name], hash);
        }
    }
}
