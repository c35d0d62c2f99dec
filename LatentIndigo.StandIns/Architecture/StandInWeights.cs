using LatentIndigo.Diffusion.Architecture;

namespace LatentIndigo.StandIns;

/// <summary>
/// The random weights of the architecture stand-ins: each tensor drawn from its own generator seeded by the seed and the
/// tensor's name (FNV-1a, stable across runs and platforms), so a test can rebuild any tensor by name. Shapes and
/// layouts are PyTorch's (a linear weight is [out, in]).
/// </summary>
public static class StandInWeights
{
    /// <summary>How a tensor is initialised.</summary>
    public enum Init
    {
        /// <summary>Uniform with variance 1/fan-in (fan-in = product of all dimensions but the first).</summary>
        FanIn,

        /// <summary>Uniform with variance (0.02)², as CLIP's embeddings.</summary>
        Embedding,

        /// <summary>1 + uniform noise of ±0.1 (normalisation scales).</summary>
        NearOne,

        /// <summary>Uniform noise of ±0.05 (biases and normalisation shifts).</summary>
        Small,
    }

    /// <summary>The values of tensor <paramref name="name"/> with <paramref name="shape"/>, row-major.</summary>
    public static float[] Get(ulong seed, string name, long[] shape, Init init)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }
        double fanIn = shape.Length > 1 ? (double)count / shape[0] : shape[0];
        double half = init switch
        {
            Init.FanIn => Math.Sqrt(3.0 / fanIn),
            Init.Embedding => 0.02 * Math.Sqrt(3.0),
            Init.NearOne => 0.1,
            _ => 0.05,
        };
        double offset = init == Init.NearOne ? 1.0 : 0.0;
        var values = new float[count];
        ulong state = Hash(seed, name);
        for (long i = 0; i < count; i++)
        {
            // xorshift64*: fast and good enough for weights.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            ulong r = state * 2685821657736338717UL;
            double u = (r >> 11) * (1.0 / (1UL << 53));
            values[i] = (float)(offset + (2 * u - 1) * half);
        }
        return values;
    }

    /// <summary>The weights of one seed as the SD graphs read them: each role drawn with its initialisation.</summary>
    internal sealed class Source(ulong seed) : ISdWeights
    {
        public float[] Read(string name, long[] shape, SdTensorRole role) => Get(seed, name, shape, role switch
        {
            SdTensorRole.Weight => Init.FanIn,
            SdTensorRole.Embedding => Init.Embedding,
            SdTensorRole.NormScale => Init.NearOne,
            _ => Init.Small,
        });
    }

    private static ulong Hash(ulong seed, string name)
    {
        ulong h = 14695981039346656037UL ^ seed;
        foreach (char c in name)
        {
            h = (h ^ c) * 1099511628211UL;
        }
        return h == 0 ? 1 : h;
    }
}
