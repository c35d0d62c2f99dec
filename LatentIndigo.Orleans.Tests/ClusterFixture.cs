using System.Collections.Concurrent;
using LatentIndigo.Batch;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using TorchSharp;

namespace LatentIndigo.Orleans.Tests;

/// <summary>
/// Stand-in models, a small collection and its local-batch reference outputs (the bytes the cluster must write),
/// shared by the cluster tests; clusters are built per test.
/// </summary>
public sealed class ClusterFixture : IDisposable
{
    /// <summary>5 pixel-guided steps (10 at strength 0.5) on 16×16 inputs: the whole pipeline, kept small because the
    /// machine that runs CI has 2 cores (20 steps took 2 s per image there when quiet and 4 minutes under heavy load).</summary>
    public static readonly ClusterRestoreSettings Settings = new() { Strategy = nameof(GuidanceStrategy.PixelInn), Steps = 10, Strength = 0.5, ScaleFactor = 4 };

    private readonly StandInFolder models = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetBehavior = StandInUnetBehavior.GaussianDenoiser });

    public ClusterFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "latent-indigo-cluster-tests-" + Guid.NewGuid().ToString("N"));
        Inputs = Path.Combine(Root, "in");
        Directory.CreateDirectory(Inputs);
        var generator = new torch.Generator(7);
        for (int i = 0; i < 4; i++)
        {
            using var image = torch.rand(new long[] { 1, 3, 16, 16 }, generator: generator);
            ImageIO.Save(image, Path.Combine(Inputs, $"img{i}.png"));
        }
        using var pool = new PipelinePool([CreatePipeline()]);
        using var batch = RestoreBatch.Create(BatchInputs.FromFolder(Inputs), Path.Combine(Root, "local"), Settings.ToRestoreOptions());
        var report = batch.RunAsync(pool).GetAwaiter().GetResult();
        Reference = report.Images.ToDictionary(i => Path.GetFileName(i.OutputPath), i => i.OutputSha256!);
    }

    public string Root { get; }

    /// <summary>The name of the last started cluster's job silo (no model set).</summary>
    public string JobSiloName { get; private set; } = "";

    public string Inputs { get; }

    /// <summary>SHA-256 of each local-batch output, by file name.</summary>
    public IReadOnlyDictionary<string, string> Reference { get; }

    public RestorationPipeline CreatePipeline() => new(StableDiffusionModels.Load(models.Path), BundledInn.Load(BundledInnWeights.BicubicX4));

    /// <summary>A cluster: the primary silo hosts no model set (jobs only); each further silo is a worker silo with one slot.</summary>
    /// <param name="readDelay">Each image read takes at least this long (see <see cref="DelayedImageStore"/>).</param>
    public async Task<InProcessTestCluster> StartClusterAsync(int workerSilos, TimeSpan leaseTimeout, TimeSpan? readDelay = null)
    {
        var store = new ConcurrentDictionary<string, object>();
        var builder = new InProcessTestClusterBuilder((short)(1 + workerSilos));
        string? jobSilo = null;
        builder.ConfigureSilo((options, silo) =>
        {
            // The first silo started (the test cluster's primary) is the job silo; the others host a model set.
            jobSilo ??= options.SiloName;
            silo.Services.AddKeyedSingleton<IGrainStorage>(LatentIndigoClusterOptions.StorageName,
                (services, _) => new SharedMemoryGrainStorage(store, services.GetRequiredService<DeepCopier>()));
            if (readDelay is { } delay)
            {
                silo.Services.AddSingleton<IImageStore>(new DelayedImageStore(delay));
            }
            silo.AddLatentIndigoJobs(o =>
            {
                o.LeaseTimeout = leaseTimeout;
                o.RenewInterval = TimeSpan.FromMilliseconds(500);
                o.PollInterval = TimeSpan.FromMilliseconds(200);
            });
            if (options.SiloName != jobSilo)
            {
                silo.AddLatentIndigoWorkers(new WorkerModelSet(CreatePipeline));
            }
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        JobSiloName = jobSilo!;
        return cluster;
    }

    public void Dispose()
    {
        models.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
