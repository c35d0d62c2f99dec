using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// Runs <see cref="LiftingInn"/> passes over large images window by window, so that the network's activations (32
/// feature maps at half resolution, about eight times the image itself) are bounded by the window instead of the image.
/// Each window is a core of <see cref="TileSize"/> pixels plus a margin on every side that is not an image border; only
/// the core of each result is kept, so there are no seams to blend.
/// </summary>
/// <remarks>
/// The network's receptive field is wide (about 300 pixels for a ×4 INN), but its influence decays quickly: with the
/// default margin of 16·2^J pixels the bundled ×4 INN gives tiled results within 1e-6 of the untiled ones on natural
/// images, that is at float rounding level (docs/benchmarks.md). Images no larger than one window run untiled.
/// </remarks>
internal sealed class InnTiling
{
    /// <summary>Creates a tiling.</summary>
    /// <param name="tileSize">Core size in pixels of the fine image; rounded up to a multiple of 2^J per network.</param>
    /// <param name="margin">Context in pixels on each inner side; null for 16·2^J. Rounded up to a multiple of 2^J.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or absurdly large.</exception>
    public InnTiling(int tileSize = 512, int? margin = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tileSize, 1 << 16);
        if (margin is int m)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(m, nameof(margin));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(m, 1 << 16, nameof(margin));
        }
        TileSize = tileSize;
        Margin = margin;
    }

    /// <summary>512-pixel cores with the default margin.</summary>
    public static InnTiling Default { get; } = new();

    /// <summary>Core size in fine-image pixels.</summary>
    public int TileSize { get; }

    /// <summary>Context on each inner side in fine-image pixels; null for 16·2^J.</summary>
    public int? Margin { get; }

    /// <summary>
    /// The coarse band of <c>inn.Forward(x)</c> — the INN's simulated degradation of <paramref name="x"/> — computed
    /// window by window. <paramref name="x"/> is <c>[B,C,H,W]</c> with H and W divisible by 2^J.
    /// </summary>
    /// <param name="inn">The network.</param>
    /// <param name="x">The image.</param>
    /// <param name="condition">γ, or null for ones.</param>
    /// <param name="windowDone">Called after each window with (windows done, <see cref="WindowCount"/>); may be null.</param>
    /// <param name="cancellationToken">Checked between windows.</param>
    /// <exception cref="InnInputException">The image does not fit the network.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between windows.</exception>
    public Tensor Coarse(IInvertibleTransform inn, Tensor x, Tensor? condition = null, Action<int, int>? windowDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(x);
        return Map(inn, x, outputScale: inn.ScaleFactor, window =>
        {
            using var decomposition = inn.Forward(window.Input, condition);
            return decomposition.Coarse.alias();
        }, windowDone, cancellationToken);
    }

    /// <summary>How many windows a pass over an image of <paramref name="height"/>×<paramref name="width"/> runs (1 when it fits one window).</summary>
    public int WindowCount(IInvertibleTransform inn, long height, long width)
    {
        ArgumentNullException.ThrowIfNull(inn);
        int s = inn.ScaleFactor;
        long tile = RoundUp(TileSize, s), margin = RoundUp(Margin ?? 16 * s, s);
        if (height <= tile + 2 * margin && width <= tile + 2 * margin)
        {
            return 1;
        }
        return checked((int)(((height + tile - 1) / tile) * ((width + tile - 1) / tile)));
    }

    /// <summary>
    /// <c>inn.Inverse(observation, Details(inn.Forward(estimate)))</c> window by window: the estimate's detail on the
    /// observation's coarse band, whose simulated degradation equals <paramref name="observation"/>.
    /// <paramref name="estimate"/> is <c>[B,C,H,W]</c>, <paramref name="observation"/> <c>[B,C,H/2^J,W/2^J]</c>.
    /// </summary>
    /// <exception cref="InnInputException">The shapes do not fit the network or each other.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between windows.</exception>
    public Tensor Project(IInvertibleTransform inn, Tensor observation, Tensor estimate, Tensor? condition = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(estimate);
        int s = inn.ScaleFactor;
        if (observation.dim() != 4 || estimate.dim() != 4 || observation.shape[0] != estimate.shape[0]
            || observation.shape[2] * s != estimate.shape[2] || observation.shape[3] * s != estimate.shape[3])
        {
            throw new InnInputException(
                $"The observation must be the estimate's size divided by {s}: got [{string.Join(",", observation.shape)}] for an estimate of [{string.Join(",", estimate.shape)}].");
        }
        return Map(inn, estimate, outputScale: 1, window =>
        {
            using var observed = observation.narrow(2, window.Top / s, window.Height / s).narrow(3, window.Left / s, window.Width / s);
            using var decomposition = inn.Forward(window.Input, condition);
            return inn.Inverse(observed, decomposition.Details, condition);
        }, windowDone: null, cancellationToken);
    }

    private readonly record struct Window(Tensor Input, long Top, long Left, long Height, long Width);

    /// <summary>
    /// Applies <paramref name="pass"/> to overlapping windows of <paramref name="x"/> and assembles the cores of its
    /// results (which are 1/<paramref name="outputScale"/> the window's size) into one tensor.
    /// </summary>
    private Tensor Map(IInvertibleTransform inn, Tensor x, int outputScale, Func<Window, Tensor> pass, Action<int, int>? windowDone,
        CancellationToken cancellationToken)
    {
        int s = inn.ScaleFactor;
        if (x.dim() != 4 || x.shape[2] % s != 0 || x.shape[3] % s != 0)
        {
            throw new InnInputException(
                $"The image must be [B,C,H,W] with H and W divisible by 2^J = {s}; got [{string.Join(",", x.shape)}]. Pad it to a multiple of {s} first.");
        }
        long height = x.shape[2], width = x.shape[3];
        long tile = RoundUp(TileSize, s), margin = RoundUp(Margin ?? 16 * s, s);
        cancellationToken.ThrowIfCancellationRequested();
        if (height <= tile + 2 * margin && width <= tile + 2 * margin)
        {
            using var scope = NewDisposeScope();
            var whole = pass(new Window(x, 0, 0, height, width)).MoveToOuterDisposeScope();
            windowDone?.Invoke(1, 1);
            return whole;
        }
        int windows = WindowCount(inn, height, width), done = 0;

        var output = torch.empty(new[] { x.shape[0], (long)inn.Channels, height / outputScale, width / outputScale }, dtype: x.dtype, device: x.device);
        try
        {
            for (long top = 0; top < height; top += tile)
            {
                for (long left = 0; left < width; left += tile)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    long windowTop = Math.Max(0, top - margin), windowLeft = Math.Max(0, left - margin);
                    long windowHeight = Math.Min(height, top + tile + margin) - windowTop;
                    long windowWidth = Math.Min(width, left + tile + margin) - windowLeft;
                    long coreHeight = Math.Min(tile, height - top), coreWidth = Math.Min(tile, width - left);
                    var input = x.narrow(2, windowTop, windowHeight).narrow(3, windowLeft, windowWidth);
                    var result = pass(new Window(input, windowTop, windowLeft, windowHeight, windowWidth));
                    var core = result.narrow(2, (top - windowTop) / outputScale, coreHeight / outputScale)
                        .narrow(3, (left - windowLeft) / outputScale, coreWidth / outputScale);
                    output.narrow(2, top / outputScale, coreHeight / outputScale)
                        .narrow(3, left / outputScale, coreWidth / outputScale)
                        .copy_(core);
                    windowDone?.Invoke(++done, windows);
                }
            }
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
