using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

public sealed partial class LiftingInn
{
    private DegradationEncoder? encoder;

    /// <summary>
    /// The degradation encoder F that gives this network its condition γ = F(y) from the observed input (docs/algorithm.md
    /// §2.5), or null: γ is then a vector of ones. Owned by this network: saved with it by <see cref="Save(string)"/>,
    /// copied by <see cref="Copy"/>, disposed with it; setting another one disposes the previous. Its parameters are not
    /// among this network's (<see cref="ParameterCount"/>, state dicts, blind refinement), so training it is a choice of
    /// the trainer (<see cref="InnTrainer"/> trains both).
    /// </summary>
    /// <exception cref="InnInputException">The encoder's channels or condition size do not match this network's.</exception>
    public DegradationEncoder? Encoder
    {
        get => encoder;
        set
        {
            if (ReferenceEquals(value, encoder))
            {
                return;
            }
            if (value is not null && (value.Channels != Channels || value.ConditionSize != ConditionSize))
            {
                throw new InnInputException(
                    $"The encoder takes {value.Channels} channels and gives a {value.ConditionSize}-d condition; this INN needs {Channels} and {ConditionSize}.");
            }
            encoder?.Dispose();
            encoder = value;
        }
    }

    /// <summary>
    /// The condition for restoring <paramref name="y"/>: γ = F(y) <c>[1, ConditionSize]</c> per image of the batch
    /// (<c>[B, ConditionSize]</c>) when this network has an <see cref="Encoder"/>, else null (ones). Computed without
    /// gradients, on this network's device and dtype; the caller owns the result.
    /// </summary>
    /// <param name="y">The observed image (or latent) <c>[B,C,h,w]</c>: the whole input, not a tile, so that every tile
    /// of one restore is conditioned alike.</param>
    public Tensor? ConditionFor(Tensor y)
    {
        ArgumentNullException.ThrowIfNull(y);
        if (encoder is null)
        {
            return null;
        }
        using var noGrad = no_grad();
        lock (encoder)
        {
            // The network was moved (to a GPU, to float64) after the encoder was attached: the encoder follows it, once,
            // under a lock because concurrent restores of one pipeline call this at the same time.
            var first = encoder.parameters().First();
            if (first.dtype != DType || first.device.type != Device.type || first.device.index != Device.index)
            {
                encoder.to(DType).to(Device);
            }
        }
        using var input = y.to(DType).to(Device);
        return encoder.forward(input);
    }
}
