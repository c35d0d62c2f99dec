using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Downscaling by an integer factor with MATLAB <c>imresize</c> semantics (spec <c>bicubic:x4</c>,
/// <c>bilinear:x2</c>, <c>area:x3</c>, <c>nearest:x8</c>). Output values are not clamped, as in MATLAB.
/// </summary>
public sealed class ResizeDegradation : DegradationModel
{
    /// <summary>Largest factor accepted.</summary>
    public const int MaxFactor = 16;

    /// <summary>Creates the downscaler.</summary>
    /// <param name="factor">Integer factor 1 to 16: the output is 1/factor of the input in each dimension.</param>
    /// <param name="method">Interpolation method.</param>
    public ResizeDegradation(int factor, ResizeMethod method = ResizeMethod.Bicubic)
    {
        if (factor < 1 || factor > MaxFactor)
        {
            throw new DegradationException($"The downscaling factor must be an integer from 1 to {MaxFactor}; got {factor}.");
        }
        if (!Enum.IsDefined(method))
        {
            throw new DegradationException($"Unknown resize method {method}; use one of {string.Join(", ", Enum.GetNames<ResizeMethod>())}.");
        }
        Factor = factor;
        Method = method;
    }

    /// <summary>The downscaling factor.</summary>
    public int Factor { get; }

    /// <summary>The interpolation method.</summary>
    public ResizeMethod Method { get; }

    /// <inheritdoc />
    public override int ScaleFactor => Factor;

    /// <inheritdoc />
    public override string Spec => $"{MethodName(Method)}:x{Factor}";

    /// <summary>The spec name of a method: bicubic, bilinear, area or nearest.</summary>
    public static string MethodName(ResizeMethod method) => method.ToString().ToLowerInvariant();

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        trace?.AddToAll(new DegradationStep(MethodName(Method), new Dictionary<string, object> { ["factor"] = Factor }));
        if (Factor == 1)
        {
            return batch;
        }
        var (kernel, antialias) = Method switch
        {
            ResizeMethod.Bicubic => (MatlabKernel.Cubic, true),
            ResizeMethod.Bilinear => (MatlabKernel.Triangle, true),
            ResizeMethod.Area => (MatlabKernel.Box, true),
            _ => (MatlabKernel.Box, false),
        };
        var scale = 1.0 / Factor;
        return MatlabResize.Resize(batch, (int)batch.shape[2] / Factor, (int)batch.shape[3] / Factor, scale, scale, kernel, antialias);
    }
}
