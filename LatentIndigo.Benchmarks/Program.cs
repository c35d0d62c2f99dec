using BenchmarkDotNet.Running;
using LatentIndigo.Benchmarks.Invertible;
using LatentIndigo.Benchmarks.Pipeline;

if (args is ["write-sd21-standin", var folder])
{
    // Writes (once) the full-size SD 2.1-base architecture stand-in, e.g. to check it with `latent-indigo sd-check`.
    Console.WriteLine(ArchitectureStandInCache.Sd21Base(folder));
    return;
}

// Every benchmark class in this assembly; pick with --filter. "--job dry --inProcess" is a one-second smoke run.
// "--interleaved-routes" runs the alternating CPU convolution-gradient probe instead (docs/benchmarks.md).
if (args.Contains(InterleavedRouteProbe.Flag))
{
    InterleavedRouteProbe.Run();
    return;
}
// "--concurrency-probe one|four": 4 concurrent restores on one pipeline vs 4 pipelines (docs/benchmarks.md).
if (args is [ConcurrencyProbe.Flag, var mode])
{
    ConcurrencyProbe.Run(mode);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
