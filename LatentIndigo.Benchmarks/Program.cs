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
// "--interleaved-routes" runs the alternating CPU convolution-gradient probe instead (docs/benchmarks.md);
// "--interleaved-engines [threads]" the rotating TorchSharp / ONNX Runtime INN probe; "--ort-weight-probe" bound vs
// baked weights in the generated INN graphs.
if (args.Contains(InterleavedEngineProbe.Flag))
{
    int at = Array.IndexOf(args, InterleavedEngineProbe.Flag);
    InterleavedEngineProbe.Run(at + 1 < args.Length && int.TryParse(args[at + 1], out int n) && n > 0 ? n : Environment.ProcessorCount);
    return;
}
if (args.Contains(OrtWeightProbe.Flag))
{
    OrtWeightProbe.Run(int.TryParse(Environment.GetEnvironmentVariable("LATENTINDIGO_BENCH_THREADS"), out int t) && t > 0 ? t : 0);
    return;
}
if (args.Contains(ConvRooflineProbe.Flag))
{
    // "--conv-roofline": GFLOP/s of one INN convolution per runtime and the guidance graph's per-operator profile.
    ConvRooflineProbe.Run(int.TryParse(Environment.GetEnvironmentVariable("LATENTINDIGO_BENCH_THREADS"), out int rt) && rt > 0 ? rt : Environment.ProcessorCount);
    return;
}
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
// "--import-probe write|run <folder>": StableDiffusionImport at full SD 2.1-base size against a plain copy (docs/benchmarks.md).
if (args is [LatentIndigo.Benchmarks.Diffusion.ImportProbe.Flag, ..])
{
    LatentIndigo.Benchmarks.Diffusion.ImportProbe.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
