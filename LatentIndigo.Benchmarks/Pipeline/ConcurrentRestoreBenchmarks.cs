using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// Throughput and memory of four concurrent restores: on ONE pipeline (one model set, <c>maxConcurrentRestores: 4</c>)
/// against FOUR pipelines (four model sets, one restore each), all four started at once. The benchmark's time is the
/// wall time for the four; <see cref="MemoryDiagnoserAttribute"/> gives the managed allocations, and the cleanup prints
/// the benchmark process's peak resident memory (VmHWM, Linux), which includes the models' native memory that the
/// memory diagnoser cannot see. BenchmarkDotNet runs each case in a process of its own, so the peaks compare.
/// Same workload as <see cref="ConcurrencyProbe"/>: "cpu"-cost stand-ins (random weights), 64×64 → 256×256, no
/// guidance (UNet and VAE, the shared part), 2 DDIM steps from pure noise, quality figures off.
/// Run with <c>--filter '*ConcurrentRestore*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class ConcurrentRestoreBenchmarks
{
    private const int Restores = 4;

    private StandInFolder? folder;
    private RestorationPipeline[] pipelines = [];
    private Tensor[] inputs = [];
    private readonly RestoreOptions options = RestoreOptions.Default with
    {
        Strategy = GuidanceStrategy.None,
        Steps = 2,
        Strength = 1.0,
        ComputeQualityMetrics = false,
    };

    /// <summary>How many model sets serve the four restores: 1 (shared, 4 slots) or 4 (one each).</summary>
    [Params(1, 4)]
    public int Pipelines { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            Cost = StandInCost.CpuBenchmark,
            VaeCost = new StandInCost(128, 8),
            UnetBehavior = StandInUnetBehavior.GaussianDenoiser,
        });
        pipelines = Enumerable.Range(0, Pipelines)
            .Select(_ => new RestorationPipeline(StableDiffusionModels.Load(folder.Path), BundledInn.Load(BundledInnWeights.BicubicX4),
                maxConcurrentRestores: Restores / Pipelines))
            .ToArray();
        inputs = Enumerable.Range(0, Restores).Select(i => torch.rand(new long[] { 1, 3, 64, 64 }, generator: new Generator((ulong)i + 1))).ToArray();
    }

    [Benchmark]
    public long FourConcurrentRestores()
    {
        var results = Task.WhenAll(inputs.Select((y, i) => pipelines[i % pipelines.Length].RestoreAsync(y, options))).GetAwaiter().GetResult();
        long pixels = 0;
        foreach (var r in results)
        {
            pixels += r.Image.shape[2] * r.Image.shape[3];
            r.Dispose();
        }
        return pixels;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// PEAK RSS | {Pipelines} pipeline(s), {Restores} concurrent restores | {PeakRssMiB():F0} MiB |"));
        foreach (var p in pipelines)
        {
            p.Dispose();
        }
        foreach (var t in inputs)
        {
            t.Dispose();
        }
        folder?.Dispose();
    }

    private static double PeakRssMiB()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
