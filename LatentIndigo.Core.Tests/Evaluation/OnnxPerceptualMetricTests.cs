using Google.Protobuf;
using LatentIndigo.Evaluation;
using Onnx;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Evaluation;

public class OnnxPerceptualMetricTests
{
    [Fact]
    public void Runs_the_users_model_on_images_scaled_to_minus_one_one_and_averages_its_output()
    {
        // A stand-in "metric" written by hand: d = (a - b)², so the mean is 4 × the MSE in [0,1] units.
        var model = new ModelProto { IrVersion = 8, ProducerName = "LatentIndigo.Tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var graph = new GraphProto { Name = "squared_difference" };
        graph.Node.Add(new NodeProto { OpType = "Sub", Input = { "output", "reference" }, Output = { "diff" } });
        graph.Node.Add(new NodeProto { OpType = "Mul", Input = { "diff", "diff" }, Output = { "d" } });
        graph.Input.Add(Image("output"));
        graph.Input.Add(Image("reference"));
        graph.Output.Add(Image("d"));
        model.Graph = graph;
        using var folder = TestData.NewTempFolder();
        string path = folder.File("sqdiff.onnx");
        File.WriteAllBytes(path, model.ToByteArray());

        using var metric = new OnnxPerceptualMetric(path);
        using var a = torch.rand(1, 3, 8, 8, generator: new torch.Generator(1));
        using var b = torch.rand(1, 3, 8, 8, generator: new torch.Generator(2));
        double mse = (a - b).square().mean().item<float>();
        Assert.Equal("sqdiff", metric.Name);
        Assert.Equal(4 * mse, metric.Compute(a, b), 5);
        Assert.Equal(0, metric.Compute(a, a), 12);
    }

    [Fact]
    public void A_missing_or_unusable_model_is_named()
    {
        using var folder = TestData.NewTempFolder();
        var missing = Assert.Throws<EvaluationInputException>(() => new OnnxPerceptualMetric(folder.File("lpips.onnx")));
        Assert.Contains("lpips.onnx", missing.Message);
        File.WriteAllText(folder.File("junk.onnx"), "not a model");
        var junk = Assert.Throws<EvaluationInputException>(() => new OnnxPerceptualMetric(folder.File("junk.onnx")));
        Assert.Contains("junk.onnx", junk.Message);
    }

    private static ValueInfoProto Image(string name)
    {
        var shape = new TensorShapeProto();
        foreach (var d in new long[] { 1, 3, 8, 8 })
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
