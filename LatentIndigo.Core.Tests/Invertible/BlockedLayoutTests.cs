using Google.Protobuf;
using LatentIndigo.Invertible;
using Onnx;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>
/// The INN graphs on ONNX Runtime's blocked-layout (NCHWc) convolutions, whose weight order is learned from ONNX
/// Runtime at run time (<see cref="NchwcLayout"/>), against the plain-convolution graphs (which
/// <see cref="InnOnnxRuntimeTests"/> checks against float64 autograd). A wrong permutation entry, a missing padding
/// zero or a residual added twice changes the result by far more than float32 rounding.
/// </summary>
public sealed class BlockedLayoutTests(ITestOutputHelper output)
{
    // Both sides are float32 with the same sums in a different order: measured 1e-7..4e-7 relative (2026-11-27, AMD EPYC
    // with AVX-512, block size 16); 1e-5 is the bound for the engines.
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(3, 2, 32, 1, 20, 28)] // the pixel INN, an odd-sized tile
    [InlineData(4, 2, 32, 3, 12, 20)] // the latent INN, a batch
    [InlineData(3, 1, 16, 1, 6, 10)]
    public void Blocked_graphs_equal_plain_graphs_and_see_in_place_weight_updates(int channels, int levels, int width, int batch, int height, int imageWidth)
    {
        var options = new LiftingInnOptions { Channels = channels, Levels = levels, Width = width, Offset = channels == 3 ? 0.5 : 0 };
        using var inn = InnTestHelpers.RandomInn(options, seed: 21);
        using var blocked = new InnOnnxRuntime(inn);
        using var plain = new InnOnnxRuntime(inn) { BlockedLayout = false };
        using var generator = new Generator(5);
        using var x = rand(new long[] { batch, channels, height, imageWidth }, generator: generator);
        int s = options.ScaleFactor;
        using var y = rand(new long[] { batch, channels, height / s, imageWidth / s }, generator: generator);

        bool supported = NchwcLayout.Supports(width, [channels, 3L * channels]);
        var weightShapes = inn.named_parameters().ToDictionary(p => p.name, p => ((Tensor)p.parameter).shape);
        var model = ModelProto.Parser.ParseFrom(InnGraphGenerator.Generate(InnGraphKind.Guidance, inn.Options, weightShapes, batch, height, imageWidth,
            sharedCondition: true, blocked: true));
        int blockedNodes = model.Graph.Node.Count(n => n.Domain == NchwcLayout.Domain);
        output.WriteLine($"blocked-layout plans on this CPU: {supported}; blocked nodes in the guidance graph: {blockedNodes}");
        Assert.Equal(supported, blockedNodes > 0);

        Compare("before", blocked, plain, x, y);
        using (no_grad())
        {
            foreach (var p in inn.parameters())
            {
                p.mul_(1.25); // in place, as blind refinement's Adam step does: the reordered weights must follow
            }
        }
        Compare("after an in-place update", blocked, plain, x, y);
        Assert.Equal(3, blocked.CachedSessions); // forward, inverse, guidance: nothing rebuilt
    }

    private void Compare(string when, InnOnnxRuntime blocked, InnOnnxRuntime plain, Tensor x, Tensor y)
    {
        using var a = blocked.Forward(x, null);
        using var b = plain.Forward(x, null);
        Close($"{when}: coarse", b.Coarse, a.Coarse);
        using var inverseA = blocked.Inverse(y, a.Details, null);
        using var inverseB = plain.Inverse(y, b.Details, null);
        Close($"{when}: inverse", inverseB, inverseA);
        var (gradientA, distanceA, consistencyA) = blocked.GuidanceGradient(x, y, null, 0.7, 1.3);
        using var gradientCopy = gradientA.clone(); // the engine reuses its output buffer
        var (gradientB, distanceB, consistencyB) = plain.GuidanceGradient(x, y, null, 0.7, 1.3);
        Close($"{when}: gradient", gradientB, gradientCopy);
        Assert.InRange(Math.Abs(distanceA - distanceB) / distanceB, 0, Tolerance);
        Assert.InRange(Math.Abs(consistencyA - consistencyB) / consistencyB, 0, Tolerance);
    }

    private void Close(string what, Tensor expected, Tensor actual)
    {
        double error = (actual - expected).norm().item<float>() / Math.Max(expected.norm().item<float>(), 1e-30);
        output.WriteLine($"{what}: relative L2 difference {error:E2}");
        Assert.True(error <= Tolerance, $"{what}: relative L2 difference {error:E2}");
    }
}
