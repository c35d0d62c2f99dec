using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// Gives a newly built network its initial weights from a generator of its own, seeded by the caller, instead of
/// libtorch's process-wide generator. TorchSharp's layer constructors draw from that global generator, which nothing in
/// the library seeds (and which concurrent restores would share): a network built that way started from different weights
/// in every process, and blind refinement, which trains those weights, then gave different images for the same seed.
/// </summary>
/// <remarks>
/// The distributions are PyTorch's defaults for the layers the INNs use: a <see cref="Conv2d"/> or <see cref="Linear"/>
/// weight and its bias uniform in ±1/√fan_in (fan_in = input channels × kernel area; <c>kaiming_uniform_(a = √5)</c>
/// reduces to that bound). The layers are visited in the ordinal order of their state-dict names, so the weights depend on
/// the seed and the architecture only. A module holding a parameter of any other layer type is refused rather than left
/// with weights from the global generator. The global generator is neither read nor changed here, so concurrent calls
/// are safe.
/// </remarks>
internal static class SeededInitialisation
{
    /// <summary>Re-draws every parameter of <paramref name="module"/> (on the CPU, float32 or float64) from <paramref name="seed"/>.</summary>
    /// <exception cref="InvalidOperationException">The module has a parameter in a layer type this class does not know.</exception>
    public static void Apply(nn.Module module, long seed)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var generator = new Generator(unchecked((ulong)seed), torch.CPU);
        using var noGrad = no_grad();
        long covered = 0;
        foreach (var (name, layer) in module.named_modules().OrderBy(m => m.name, StringComparer.Ordinal))
        {
            switch (layer)
            {
                case Conv2d conv:
                    covered += Draw(conv.weight!, conv.bias, generator);
                    break;
                case Linear linear:
                    covered += Draw(linear.weight!, linear.bias, generator);
                    break;
                default:
                    if (layer.named_parameters(recurse: false).Any())
                    {
                        throw new InvalidOperationException(
                            $"SeededInitialisation does not know the layer '{name}' ({layer.GetType().Name}); add its default initialisation.");
                    }
                    break;
            }
        }
        long total = module.parameters().Sum(p => p.numel());
        if (covered != total)
        {
            throw new InvalidOperationException($"SeededInitialisation drew {covered} of {total} parameters; a layer type is missing.");
        }
    }

    private static long Draw(Tensor weight, Tensor? bias, Generator generator)
    {
        // fan_in: everything but the output dimension (Conv2d [out, in/groups, kh, kw], Linear [out, in]).
        long fanIn = weight.numel() / weight.shape[0];
        double bound = 1 / Math.Sqrt(fanIn);
        Uniform(weight, bound, generator);
        if (bias is null)
        {
            return weight.numel();
        }
        Uniform(bias, bound, generator);
        return weight.numel() + bias.numel();
    }

    // Drawn on the CPU in float64, then copied: the values do not depend on the parameter's device or dtype.
    private static void Uniform(Tensor parameter, double bound, Generator generator)
    {
        using var unit = torch.rand(parameter.shape, dtype: ScalarType.Float64, device: torch.CPU, generator: generator);
        using var scaled = unit.mul(2 * bound).sub_(bound);
        parameter.copy_(scaled);
    }
}
