using BenchmarkDotNet.Running;
using LatentIndigo.Benchmarks.Invertible;

// Every benchmark class in this assembly; pick with --filter. "--job dry --inProcess" is a one-second smoke run.
// "--interleaved-routes" runs the alternating CPU convolution-gradient probe instead (docs/benchmarks.md).
if (args.Contains(InterleavedRouteProbe.Flag))
{
    InterleavedRouteProbe.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
