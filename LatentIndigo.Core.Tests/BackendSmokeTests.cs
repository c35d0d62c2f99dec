using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests;

/// <summary>Both native backends load in one process (the Debian 12 libstdc++ fix is a build step).</summary>
public class BackendSmokeTests
{
    [Fact]
    public void TorchSharp_runs_a_real_op()
    {
        using var a = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var b = a.matmul(a.t());
        // [[0,1,2],[3,4,5]] · its transpose: 0+1+4 = 5 and 9+16+25 = 50.
        Assert.Equal(5f, b[0, 0].item<float>());
        Assert.Equal(50f, b[1, 1].item<float>());
    }

    [Fact]
    public void TorchSharp_and_OnnxRuntime_run_in_one_process()
    {
        // y = x * x + x, written as an ONNX graph by hand.
        var model = new ModelProto { IrVersion = 8, ProducerName = "LatentIndigo.Tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var graph = new GraphProto { Name = "square_plus" };
        graph.Node.Add(new NodeProto { OpType = "Mul", Input = { "x", "x" }, Output = { "sq" } });
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "sq", "x" }, Output = { "y" } });
        graph.Input.Add(FloatVector("x", 4));
        graph.Output.Add(FloatVector("y", 4));
        model.Graph = graph;

        using var session = new InferenceSession(model.ToByteArray());
        using var x = torch.tensor(new float[] { -2, 0.5f, 1, 3 });
        var input = x.data<float>().ToArray();
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, new long[] { 4 });
        using var outputs = session.Run(new RunOptions(), new[] { "x" }, new[] { inputValue }, new[] { "y" });
        var fromOrt = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        using var fromTorch = x * x + x;
        Assert.Equal(fromTorch.data<float>().ToArray(), fromOrt);
    }

    private static ValueInfoProto FloatVector(string name, long length)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = length });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
