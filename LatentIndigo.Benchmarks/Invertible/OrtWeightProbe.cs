using System.Diagnostics;
using Google.Protobuf;
using LatentIndigo.Invertible;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Invertible;

/// <summary>
/// A probe (not a BenchmarkDotNet benchmark): the generated INN graphs with the weights as bound graph inputs (what the
/// library does) against the same graphs with the weights baked in as initializers (which lets ONNX Runtime pre-pack
/// them and use its NCHWc convolutions, but would need a new session after every weight change). Prints median times.
/// </summary>
internal static class OrtWeightProbe
{
    public const string Flag = "--ort-weight-probe";

    public static void Run(int threads)
    {
        var inn = new LiftingInn(LiftingInnOptions.Pixel());
        var parameters = inn.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var shapes = parameters.ToDictionary(p => p.Key, p => p.Value.shape);
        foreach (var kind in new[] { InnGraphKind.Forward, InnGraphKind.Guidance })
        {
            var bytes = InnGraphGenerator.Generate(kind, inn.Options, shapes, 1, 512, 512, sharedCondition: true);
            foreach (bool baked in new[] { false, true })
            {
                var model = ModelProto.Parser.ParseFrom(bytes);
                if (baked)
                {
                    foreach (var (name, p) in parameters)
                    {
                        var input = model.Graph.Input.First(i => i.Name == name);
                        model.Graph.Input.Remove(input);
                        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
                        t.Dims.AddRange(p.shape);
                        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.data<float>().ToArray().AsSpan()));
                        model.Graph.Initializer.Add(t);
                    }
                }
                using var so = InnOnnxRuntime.DefaultCpuOptions();
                so.IntraOpNumThreads = threads;
                var clock = Stopwatch.StartNew();
                using var session = new InferenceSession(model.ToByteArray(), so);
                var create = clock.Elapsed;
                var inputs = new Dictionary<string, OrtValue>();
                foreach (var (name, meta) in session.InputMetadata)
                {
                    var shape = meta.Dimensions.Select(d => (long)d).ToArray();
                    var data = parameters.TryGetValue(name, out var p) ? p.data<float>().ToArray() : Enumerable.Repeat(0.5f, (int)shape.Aggregate(1L, (a, b) => a * b)).ToArray();
                    inputs[name] = OrtValue.CreateTensorValueFromMemory(data, shape);
                }
                using var runOptions = new RunOptions();
                var names = session.OutputMetadata.Keys.ToArray();
                var times = new List<double>();
                for (int i = 0; i < 4; i++)
                {
                    clock.Restart();
                    using var outputs = session.Run(runOptions, inputs.Keys.ToArray(), inputs.Values.ToArray(), names);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
                times.Sort();
                Console.WriteLine($"{kind,-9} weights {(baked ? "baked" : "bound"),-5}: session {create.TotalMilliseconds,7:F0} ms, runs (ms) {string.Join(" ", times.Select(t => t.ToString("F0")))}");
                foreach (var v in inputs.Values)
                {
                    v.Dispose();
                }
            }
        }
    }
}
