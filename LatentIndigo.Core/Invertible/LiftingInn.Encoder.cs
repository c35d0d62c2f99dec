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
            if (value is not null && ((value.Channels != Channels && value.Channels != DegradationEncoder.ImageChannels) || value.ConditionSize != ConditionSize))
            {
                throw new InnInputException(
                    $"The encoder takes {value.Channels} channels and gives a {value.ConditionSize}-d condition; this INN needs {Channels} (its own space) or {DegradationEncoder.ImageChannels} (RGB images) and {ConditionSize}.");
            }
            encoder?.Dispose();
            encoder = value;
        }
    }

    /// <summary>
    /// True when the <see cref="Encoder"/> looks at the low-quality RGB image rather than at this network's own space:
    /// a latent INN's encoder can see the image y instead of E(y), where a VAE's 8× encoder keeps little of the noise
    /// and JPEG blocking that tell degradations apart (measured on the stand-in VAE: noise σ = 15 changed E(y)'s
    /// high-pass energy by 1 %). Callers then pass y to <see cref="ConditionFor"/>.
    /// </summary>
    public bool EncoderSeesImages => encoder is not null && encoder.Channels != Channels;

    /// <summary>
    /// The condition for restoring <paramref name="y"/>: γ = F(y) <c>[1, ConditionSize]</c> per image of the batch
    /// (<c>[B, ConditionSize]</c>) when this network has an <see cref="Encoder"/>, else null (ones). Computed without
    /// gradients, on this network's device and dtype; the caller owns the result.
    /// </summary>
    /// <param name="y">The observed input <c>[B,C,h,w]</c> in the encoder's space: this network's own (the image for a
    /// pixel INN, E(y) for a latent INN), or the RGB image when <see cref="EncoderSeesImages"/>. The whole input, not a
    /// tile, so that every tile of one restore is conditioned alike.</param>
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
