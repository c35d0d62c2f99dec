using LatentIndigo.StandIns;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Diffusion.StandIns;

/// <summary>
/// What the stand-in graphs compute, re-derived here in float64 TorchSharp ops from the builder's documented contract,
/// so tests compare ONNX Runtime's output through the library against an independent computation.
/// </summary>
internal static class StandInExpectations
{
    /// <summary>out = 0.5·x + t/1000 + mean(ehs[b]).</summary>
    public static Tensor UnetOutput(Tensor latents, int timestep, Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var x = latents.to_type(ScalarType.Float64);
        var e = hiddenStates.to_type(ScalarType.Float64).mean([1, 2]).view(-1, 1, 1, 1);
        return (x * 0.5 + timestep / 1000.0 + e).MoveToOuterDisposeScope();
    }

    /// <summary>scaling · A · avgpool8(2x − 1).</summary>
    public static Tensor EncodedLatents(Tensor image01, int channels, double scaling)
    {
        using var scope = torch.NewDisposeScope();
        var pooled = torch.nn.functional.avg_pool2d(image01.to_type(ScalarType.Float64) * 2 - 1, 8, 8);
        var a = Matrix(StandInModelBuilder.VaeMatrix(channels));
        return (torch.einsum("ck,bkhw->bchw", a, pooled) * scaling).MoveToOuterDisposeScope();
    }

    public static Tensor TextEmbeddings(int[] ids, int hidden)
    {
        var v = new double[ids.Length * hidden];
        for (int s = 0; s < ids.Length; s++)
        {
            for (int h = 0; h < hidden; h++)
            {
                v[s * hidden + h] = StandInModelBuilder.TextEmbedding(ids[s], h);
            }
        }
        return torch.tensor(v, [1, ids.Length, hidden], ScalarType.Float64);
    }

    public static Tensor Matrix(double[,] m)
    {
        int r = m.GetLength(0), c = m.GetLength(1);
        var flat = new double[r * c];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < c; j++)
            {
                flat[i * c + j] = m[i, j];
            }
        }
        return torch.tensor(flat, [r, c], ScalarType.Float64);
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        return (a.to_type(ScalarType.Float64).cpu() - b.to_type(ScalarType.Float64).cpu()).abs().max().item<double>();
    }

    public static Tensor RandomUniform(long seed, params long[] shape)
    {
        using var g = new Generator((ulong)seed);
        return torch.rand(shape, ScalarType.Float32, generator: g);
    }

    public static Tensor RandomNormal(long seed, params long[] shape)
    {
        using var g = new Generator((ulong)seed);
        return torch.randn(shape, ScalarType.Float32, generator: g);
    }
}
