using System.Security.Cryptography;
using LatentIndigo.Batch;
using LatentIndigo.Pipeline;
using Xunit;

namespace LatentIndigo.Orleans.Tests;

/// <summary>A job's initial estimator (<see cref="ClusterRestoreSettings.Estimator"/>) reaches the workers that restore it.</summary>
public class ClusterEstimatorTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(10);

    private static Dictionary<string, string> Hashes(string folder) => Directory.GetFiles(folder, "*.png")
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))).ToLowerInvariant());

    private string NewFolder(string prefix) => Directory.CreateDirectory(Path.Combine(fixture.Root, prefix + "-" + Guid.NewGuid().ToString("N"))).FullName;

    private static async Task<ClusterJobStatus> Watch(RestoreClusterClient client, string jobId)
    {
        using var timeout = new CancellationTokenSource(JobTimeout);
        return await client.WatchAsync(jobId, null, TimeSpan.FromMilliseconds(200), timeout.Token);
    }

    private Dictionary<string, string> LocalBatch(RestoreOptions options)
    {
        string output = NewFolder("local");
        using var pool = new PipelinePool([fixture.CreatePipeline()]);
        using var batch = RestoreBatch.Create(BatchInputs.FromFolder(fixture.Inputs), output, options);
        var report = batch.RunAsync(pool).GetAwaiter().GetResult();
        Assert.All(report.Images, i => Assert.NotNull(i.OutputSha256));
        return Hashes(output);
    }

    [Fact]
    public async Task A_job_naming_a_bundled_network_is_restored_with_it_with_the_bytes_of_a_local_batch()
    {
        // INN-only with no known degradation returns the initial estimate: the output is the network's upscale, so a
        // worker that ignored the setting (bicubic) writes other bytes.
        var settings = new ClusterRestoreSettings { Strategy = nameof(GuidanceStrategy.InnOnly), ScaleFactor = 4, Estimator = "esrgan-slim-x4" };
        Dictionary<string, string> withNetwork;
        using (var slim = OnnxUpscaleEstimator.Load("esrgan-slim-x4"))
        {
            withNetwork = LocalBatch(settings.ToRestoreOptions(slim));
        }
        var bicubic = LocalBatch(settings.ToRestoreOptions());
        Assert.All(withNetwork, pair => Assert.NotEqual(bicubic[pair.Key], pair.Value));

        await using var cluster = await fixture.StartClusterAsync(workerSilos: 1, leaseTimeout: TimeSpan.FromSeconds(60));
        var client = new RestoreClusterClient(cluster.Client);
        string output = NewFolder("out");
        var status = await Watch(client, await client.SubmitAsync(RestoreJobSpec.FromFolders(fixture.Inputs, output, settings)));
        Assert.True(status.Failed == 0, string.Join("; ", status.Failures));
        Assert.Equal((4, 4), (status.Total, status.Done));
        Assert.Equal(withNetwork, Hashes(output));

        // The same job without an estimator writes bicubic's bytes (the setting, not the silo, decides).
        string plain = NewFolder("out");
        status = await Watch(client, await client.SubmitAsync(RestoreJobSpec.FromFolders(fixture.Inputs, plain, settings with { Estimator = "bicubic" })));
        Assert.Equal((4, 4), (status.Total, status.Done));
        Assert.Equal(bicubic, Hashes(plain));
    }

    [Fact]
    public async Task A_job_naming_a_missing_network_fails_its_images_with_a_message_naming_the_file()
    {
        string missing = Path.Combine(fixture.Root, "no-such-upscaler.onnx");
        var settings = new ClusterRestoreSettings { Strategy = nameof(GuidanceStrategy.InnOnly), ScaleFactor = 4, Estimator = missing };
        await using var cluster = await fixture.StartClusterAsync(workerSilos: 1, leaseTimeout: TimeSpan.FromSeconds(60));
        var client = new RestoreClusterClient(cluster.Client);
        string output = NewFolder("out");
        var status = await Watch(client, await client.SubmitAsync(RestoreJobSpec.FromFolders(fixture.Inputs, output, settings)));
        Assert.Equal((4, 0, 4), (status.Total, status.Done, status.Failed));
        Assert.All(status.Failures, f => Assert.Contains("no-such-upscaler.onnx", f));
        Assert.Empty(Directory.GetFiles(output));
    }
}
