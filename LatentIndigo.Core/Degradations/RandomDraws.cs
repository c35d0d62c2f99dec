using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Every random number a degradation uses comes from here, and so from one <see cref="Generator"/>: a seeded generator
/// gives identical results. Noise is drawn on the generator's device and then moved, so the same seed gives the same
/// noise on CPU and CUDA.
/// </summary>
internal sealed class RandomDraws : IDisposable
{
    private readonly Generator generator;
    private readonly bool ownsGenerator;

    private RandomDraws(Generator generator, bool owns)
    {
        this.generator = generator;
        ownsGenerator = owns;
    }

    /// <summary>Wraps the caller's generator, or a fresh randomly seeded one when none is given.</summary>
    public static RandomDraws From(Generator? generator) =>
        generator is not null
            ? new RandomDraws(generator, owns: false)
            : new RandomDraws(new Generator((ulong)Random.Shared.NextInt64(), torch.CPU), owns: true);

    public Generator Generator => generator;

    /// <summary>A uniform draw in [lo, hi).</summary>
    public double Uniform(double lo, double hi)
    {
        using var u = torch.rand(1, dtype: ScalarType.Float64, device: generator.device, generator: generator);
        return lo + (hi - lo) * u.item<double>();
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Bernoulli(double p) => Uniform(0, 1) < p;

    /// <summary>An index drawn with the given (not necessarily normalised) probabilities.</summary>
    public int Choice(IReadOnlyList<double> weights)
    {
        var total = weights.Sum();
        var u = Uniform(0, total);
        var acc = 0.0;
        for (var i = 0; i < weights.Count; i++)
        {
            acc += weights[i];
            if (u < acc)
            {
                return i;
            }
        }
        return weights.Count - 1;
    }

    /// <summary>One of <paramref name="items"/>, uniformly.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Math.Min(items.Count - 1, (int)Math.Floor(Uniform(0, items.Count)))];

    /// <summary>Standard normal float32 noise of the given shape, on <paramref name="device"/>.</summary>
    public Tensor Normal(long[] shape, Device device) =>
        torch.randn(shape, dtype: ScalarType.Float32, device: generator.device, generator: generator).to(device);

    /// <summary>Poisson samples with the given rates, on the rates' device.</summary>
    public Tensor Poisson(Tensor rates) => torch.poisson(rates.to(generator.device), generator).to(rates.device);

    public void Dispose()
    {
        if (ownsGenerator)
        {
            generator.Dispose();
        }
    }
}
