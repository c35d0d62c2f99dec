using System.Diagnostics;
using System.Text.Json;
using LatentIndigo.Invertible;
using LatentIndigo.Onnx;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Invertible;

/// <summary>
/// A probe (not a BenchmarkDotNet benchmark) for the CPU goal of issue 11: how many GFLOP/s one of the INN's
/// convolutions (3×3, 32 → 32 channels at 256², the pixel INN's finest level) reaches in each runtime, and where the
/// time of the pixel 512² guidance graph goes (ONNX Runtime's per-operator profile). Together with the graph's
/// convolution count this bounds what any ordering of the same convolutions can reach on this CPU.
/// </summary>
internal static class ConvRooflineProbe
{
    public const string Flag = "--conv-roofline";

    private const int Width = 32, Side = 256, Repeats = 9;

    public static void Run(int threads)
    {
        if (Environment.GetEnvironmentVariable("LATENTINDIGO_PROBE_ALLOCATION") == "1")
        {
            Allocation();
            return;
        }
        torch.set_num_threads(threads);
        double flops = 2.0 * 9 * Width * Width * Side * Side;
        Console.WriteLine($"threads {threads}; one conv = {flops / 1e9:F3} GFLOP; median of {Repeats}");
        var x = torch.randn(1, Width, Side, Side);
        var w = torch.randn(Width, Width, 3, 3) * 0.05f;
        var b = torch.zeros(Width);

        {
            // libtorch's own convolution (oneDNN on this CPU) and its backward with respect to the input.
            Report("TorchSharp conv forward (libtorch, oneDNN)", flops, () =>
            {
                using var noGrad = torch.no_grad();
                using var y = torch.nn.functional.conv2d(x, w, b, padding: [1, 1]);
            });
            Report("TorchSharp conv input-gradient (libtorch, oneDNN)", flops, () =>
            {
                using var scope = torch.NewDisposeScope();
                using var grad = torch.enable_grad();
                var xi = x.detach().requires_grad_(true);
                var y = torch.nn.functional.conv2d(xi, w, b, padding: [1, 1]);
                torch.autograd.grad([y], [xi], [torch.ones_like(y)]);
            });
        }

        foreach (bool baked in new[] { false, true })
        {
            var g = new OnnxGraphBuilder("one_conv");
            var f = TensorProto.Types.DataType.Float;
            g.Input("x", f, 1L, (long)Width, (long)Side, (long)Side);
            string weight = baked ? g.Constant(w.data<float>().ToArray(), Width, Width, 3, 3) : g.Input("w", f, (long)Width, (long)Width, 3L, 3L);
            g.Node("Conv", ["x", weight], "y", OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
            g.Output("y", f, 1L, (long)Width, (long)Side, (long)Side);
            using var so = InnOnnxRuntime.DefaultCpuOptions();
            so.IntraOpNumThreads = threads;
            using var session = new InferenceSession(g.ToBytes(), so);
            using var xv = OrtValue.CreateTensorValueFromMemory(x.data<float>().ToArray(), x.shape);
            using var wv = OrtValue.CreateTensorValueFromMemory(w.data<float>().ToArray(), w.shape);
            using var ro = new RunOptions();
            string[] names = baked ? ["x"] : ["x", "w"];
            OrtValue[] values = baked ? [xv] : [xv, wv];
            Report($"ONNX Runtime conv ({(baked ? "baked weights, NCHWc" : "bound weights")})", flops, () =>
            {
                using var outputs = session.Run(ro, names, values, ["y"]);
            });
        }

        TorchSharpGuidanceSplit();
        Console.WriteLine($"blocked-layout plans for the pixel INN: {NchwcLayout.Supports(32, [3, 9])}");
        ProfileGuidance(threads, blocked: false);
        ProfileGuidance(threads, blocked: true);
    }

    /// <summary>libtorch's guidance step split into its differentiable passes and the backward sweep.</summary>
    private static void TorchSharpGuidanceSplit()
    {
        TorchCpuSettings.ConvolutionGradient = ConvolutionGradientRoute.Libtorch;
        try
        {
            using var inn = new LiftingInn(LiftingInnOptions.Pixel());
            inn.Engine = InnEngine.TorchSharp;
            var x = torch.rand(1, 3, 512, 512);
            var y = torch.rand(1, 3, 128, 128);
            Tensor Loss(Tensor xi)
            {
                using var d = inn.Forward(xi, null);
                var coarse = (y - d.Coarse).pow(2).sum().add(1e-12).sqrt();
                var inverse = inn.Inverse(y, d.Details, null);
                return coarse + (inverse - xi).pow(2).sum();
            }
            Report("TorchSharp (oneDNN) guidance: passes with autograd", 1, () =>
            {
                using var scope = torch.NewDisposeScope();
                using var grad = torch.enable_grad();
                using var constant = InnConvolution.ConstantWeights();
                Loss(x.detach().requires_grad_(true));
            });
            Report("TorchSharp (oneDNN) guidance: passes + backward", 1, () =>
            {
                using var scope = torch.NewDisposeScope();
                using var grad = torch.enable_grad();
                using var constant = InnConvolution.ConstantWeights();
                var xi = x.detach().requires_grad_(true);
                torch.autograd.grad([Loss(xi)], [xi]);
            });
        }
        finally
        {
            TorchCpuSettings.ConvolutionGradient = ConvolutionGradientRoute.ForwardConvolutions;
        }
    }

    /// <summary>Managed bytes per guidance step on ONNX Runtime, blocked and plain graphs (latent 64², pixel 512², after warm-up).</summary>
    private static void Allocation()
    {
        foreach (var (pixel, blocked) in new[] { (false, true), (false, false), (true, true), (true, false) })
        {
            using var inn = new LiftingInn(pixel ? LiftingInnOptions.Pixel() : LiftingInnOptions.Latent()) { Engine = InnEngine.OnnxRuntime };
            inn.OnnxRuntimeEngine()!.BlockedLayout = blocked;
            var step = new Guidance.InnGuidanceStep(inn, 1.0, 1.0);
            var x = pixel ? torch.rand(1, 3, 512, 512) : torch.randn(1, 4, 64, 64);
            var y = pixel ? torch.rand(1, 3, 128, 128) : torch.randn(1, 4, 16, 16);
            for (int i = 0; i < 3; i++)
            {
                using var r = step.Apply(x, y, null, 0.0);
            }
            int runs = pixel ? 6 : 20;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < runs; i++)
            {
                using var r = step.Apply(x, y, null, 0.0);
            }
            long bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / runs;
            Console.WriteLine($"guidance step, {(pixel ? "pixel 512²" : "latent 64²")}, {(blocked ? "blocked" : "plain")} graphs: {bytes} managed bytes per step");
        }
    }

    private static void Report(string what, double flops, Action run)
    {
        run();
        var times = new List<double>();
        for (int i = 0; i < Repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double median = times[Repeats / 2];
        Console.WriteLine($"{what,-55} {median,8:F2} ms  {flops / median / 1e6,7:F1} GFLOP/s");
    }

    /// <summary>ONNX Runtime's own profile of the bound pixel 512² guidance graph: time per operator type.</summary>
    private static void ProfileGuidance(int threads, bool blocked)
    {
        var inn = new LiftingInn(LiftingInnOptions.Pixel());
        var parameters = inn.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var bytes = InnGraphGenerator.Generate(InnGraphKind.Guidance, inn.Options, parameters.ToDictionary(p => p.Key, p => p.Value.shape), 1, 512, 512, sharedCondition: true, blocked: blocked);
        using var so = InnOnnxRuntime.DefaultCpuOptions();
        so.IntraOpNumThreads = threads;
        so.EnableProfiling = true;
        so.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), "inn-guidance-profile");
        using var session = new InferenceSession(bytes, so);
        var inputs = new Dictionary<string, OrtValue>();
        foreach (var (name, meta) in session.InputMetadata)
        {
            var shape = meta.Dimensions.Select(d => (long)d).ToArray();
            var data = parameters.TryGetValue(name, out var p) ? p.data<float>().ToArray()
                : name == InnGraphGenerator.LossWeights ? [1f, 1f] : Enumerable.Repeat(0.5f, (int)shape.Aggregate(1L, (a, c) => a * c)).ToArray();
            inputs[name] = OrtValue.CreateTensorValueFromMemory(data, shape);
        }
        using var ro = new RunOptions();
        var outputNames = session.OutputMetadata.Keys.ToArray();
        const int runs = 3;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < runs; i++)
        {
            using var outputs = session.Run(ro, inputs.Keys.ToArray(), inputs.Values.ToArray(), outputNames);
        }
        Console.WriteLine($"guidance graph, {(blocked ? "blocked" : "plain")} convolutions (profiled): {clock.Elapsed.TotalMilliseconds / runs:F0} ms per run");
        var file = session.EndProfiling();
        var byType = new Dictionary<string, (double Us, int Count)>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
        {
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
                {
                    continue;
                }
                var args = e.GetProperty("args");
                var op = args.GetProperty("op_name").GetString()!;
                var us = e.GetProperty("dur").GetDouble();
                var (t, n) = byType.GetValueOrDefault(op);
                byType[op] = (t + us, n + 1);
            }
        }
        File.Delete(file);
        double total = byType.Values.Sum(v => v.Us);
        foreach (var (op, (us, n)) in byType.OrderByDescending(kv => kv.Value.Us))
        {
            Console.WriteLine($"  {op,-16} {us / 1000 / runs,8:F1} ms per run  {100 * us / total,5:F1} %  ({n / runs} nodes)");
        }
        foreach (var v in inputs.Values)
        {
            v.Dispose();
        }
    }
}
