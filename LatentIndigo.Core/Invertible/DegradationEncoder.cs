using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// The degradation embedding γ = F(y) of the paper (docs/algorithm.md §2.5): a small CNN that looks at the whole observed
/// image (or latent) y and returns the condition vector the INN's residual blocks are scaled by, so that one network can
/// model the degradation of <em>this</em> input instead of the average of its training set. INDIGO+ used a KDSR-style
/// implicit degradation estimator; this is the project's own, smaller design with the same role and output size.
/// </summary>
/// <remarks>
/// Layers: four 3×3 convolutions (C → w → w → 2w → 2w, LeakyReLU 0.1, 2× average pooling after the first two), a global
/// average over the image, then Linear(2w → 2w), LeakyReLU, Linear(2w → condition size), and γ = 1 + tanh of that, in
/// (0, 2). The last layer starts at zero, so a new encoder returns γ = 1 for every input: a trained INN given a new encoder behaves exactly
/// as without one, and joint training starts from there. Global averaging makes γ independent of the image size, so the
/// pipeline computes it once from the whole input and uses it for every tile.
/// </remarks>
public sealed class DegradationEncoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Channels of an encoder that looks at RGB images (allowed on any INN, see <see cref="LiftingInn.EncoderSeesImages"/>).</summary>
    public const int ImageChannels = 3;

    /// <summary>Scale of the high-pass residual the first layer sees (a noise level of 2/255 then gives values near 0.1).</summary>
    internal const double HighPassGain = 8;

    /// <summary>The default feature width w (about 80 k parameters for RGB input and a 128-d condition).</summary>
    public const int DefaultWidth = 32;

    // Field names are the state-dict key names; do not rename.
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Conv2d conv4;
    private readonly Linear fc1;
    private readonly Linear fc2;

    /// <summary>
    /// Creates an encoder whose output is all ones until it is trained. The other layers' random weights (PyTorch's
    /// default distributions) are drawn from a generator seeded with <paramref name="seed"/>, not from libtorch's
    /// process-wide one: equal sizes and seed give equal weights in every process.
    /// </summary>
    /// <param name="channels">Channels of y (3 for images, 4 for Stable Diffusion latents).</param>
    /// <param name="conditionSize">Length of γ: the INN's <see cref="LiftingInnOptions.ConditionSize"/>.</param>
    /// <param name="width">Feature width w.</param>
    /// <param name="seed">Seed of the initial weights.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or absurdly large.</exception>
    public DegradationEncoder(int channels, int conditionSize, int width = DefaultWidth, long seed = 0) : base(nameof(DegradationEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channels, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(conditionSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(conditionSize, 65536);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 1024);
        Channels = channels;
        ConditionSize = conditionSize;
        Width = width;
        conv1 = nn.Conv2d(channels, width, 3, padding: 1);
        conv2 = nn.Conv2d(width, width, 3, padding: 1);
        conv3 = nn.Conv2d(width, 2 * width, 3, padding: 1);
        conv4 = nn.Conv2d(2 * width, 2 * width, 3, padding: 1);
        fc1 = nn.Linear(2 * width, 2 * width);
        fc2 = nn.Linear(2 * width, conditionSize);
        RegisterComponents();
        // TorchSharp's layers drew their weights from the unseeded global generator: draw them again from the seed.
        SeededInitialisation.Apply(this, seed);
        using (no_grad())
        {
            fc2.weight!.zero_();
            fc2.bias!.zero_();
        }
    }

    /// <summary>Channels of y.</summary>
    public int Channels { get; }

    /// <summary>Length of γ.</summary>
    public int ConditionSize { get; }

    /// <summary>Feature width w.</summary>
    public int Width { get; }

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>γ = F(y).</summary>
    /// <param name="y">The observed image or latent <c>[B,C,h,w]</c>, at least 4×4.</param>
    /// <returns>γ <c>[B, ConditionSize]</c>, on y's device.</returns>
    /// <exception cref="InnInputException">y has the wrong rank, channels, dtype or device, is smaller than 4×4, or is not finite.</exception>
    public override Tensor forward(Tensor y)
    {
        ArgumentNullException.ThrowIfNull(y);
        if (y.dim() != 4 || y.shape[1] != Channels)
        {
            throw new InnInputException($"The degradation encoder takes [B,{Channels},h,w]; got [{string.Join(",", y.shape)}].");
        }
        if (y.shape[2] < 4 || y.shape[3] < 4)
        {
            throw new InnInputException($"The degradation encoder needs at least 4×4 pixels; got {y.shape[2]}×{y.shape[3]}.");
        }
        var weight = conv1.weight!;
        if (y.dtype != weight.dtype || y.device.type != weight.device.type || y.device.index != weight.device.index)
        {
            throw new InnInputException($"y is {y.dtype} on {y.device} but the encoder is {weight.dtype} on {weight.device}.");
        }
        using var scope = NewDisposeScope();
        // γ = 1 + tanh(·) ∈ (0, 2): ones at the start, and bounded, so a high encoder learning rate cannot blow the
        // residual blocks' scales up (unbounded, 100× the INN's rate diverged within 40 steps).
        var gamma = fc2.forward(Embedding(y)).tanh() + 1; // not in place: tanh's backward reads its output
        return gamma.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The 2w-d embedding γ is read from (the output of fc1 and its LeakyReLU): what <see cref="InnTrainer.PretrainEncoder"/>
    /// makes tell degradations apart. Checked input, as <see cref="forward"/>.
    /// </summary>
    internal Tensor Embedding(Tensor y)
    {
        using var scope = NewDisposeScope();
        // The encoder sees y's high-pass residual (y minus its 3×3 local mean), scaled up: noise, JPEG blocking and
        // sharpness live there, while the image content's low frequencies, which say nothing about the degradation and
        // dominate y itself, are removed.
        var local = nn.functional.avg_pool2d(y, 3, stride: 1, padding: 1, count_include_pad: false);
        var h = nn.functional.leaky_relu(InnConvolution.Apply((y - local) * HighPassGain, conv1), 0.1);
        h = nn.functional.avg_pool2d(h, 2, ceil_mode: true);
        h = nn.functional.leaky_relu(InnConvolution.Apply(h, conv2), 0.1);
        h = nn.functional.avg_pool2d(h, 2, ceil_mode: true);
        h = nn.functional.leaky_relu(InnConvolution.Apply(h, conv3), 0.1);
        h = nn.functional.leaky_relu(InnConvolution.Apply(h, conv4), 0.1);
        var pooled = h.mean([2L, 3L]);
        return nn.functional.leaky_relu(fc1.forward(pooled), 0.1).MoveToOuterDisposeScope();
    }

    /// <summary>The parameters of the layers below γ's last one (what pre-training trains).</summary>
    internal IEnumerable<Parameter> EmbeddingParameters() =>
        new nn.Module[] { conv1, conv2, conv3, conv4, fc1 }.SelectMany(m => m.parameters());

    /// <summary>A new encoder with this one's sizes, weights, dtype and device.</summary>
    public DegradationEncoder Copy()
    {
        var copy = new DegradationEncoder(Channels, ConditionSize, Width);
        try
        {
            var weight = conv1.weight!;
            copy.to(weight.dtype).to(weight.device);
            using (no_grad())
            {
                var source = state_dict();
                foreach (var (key, value) in copy.state_dict())
                {
                    value.copy_(source[key]);
                }
            }
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }
}
