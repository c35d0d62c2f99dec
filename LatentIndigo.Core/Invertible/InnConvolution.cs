using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// Runs the INN's 3×3, stride-1, pad-1 convolutions, choosing how they are differentiated
/// (<see cref="TorchCpuSettings.ConvolutionGradient"/>): float32 on the CPU with gradients wanted goes through
/// <see cref="ConvolutionByForwardPasses"/>, everything else through libtorch's <c>conv2d</c> as is.
/// </summary>
internal static class InnConvolution
{
    internal static readonly long[] Padding = [1, 1];

    [ThreadStatic]
    private static int constantWeightsDepth;

    /// <summary>
    /// Within the returned scope (on this thread), convolution weights are treated as constants: no gradient flows to
    /// them. Guidance differentiates with respect to the image only, and a hand-written backward cannot see which
    /// gradients the caller asked for, so it would otherwise compute weight gradients nobody reads.
    /// </summary>
    public static ConstantWeightsScope ConstantWeights()
    {
        constantWeightsDepth++;
        return new ConstantWeightsScope();
    }

    public static Tensor Apply(Tensor x, Conv2d conv)
    {
        var weight = conv.weight!;
        var bias = conv.bias;
        if (constantWeightsDepth > 0 && is_grad_enabled())
        {
            using var constantWeight = weight.detach();
            using var constantBias = bias?.detach();
            return Run(x, constantWeight, constantBias);
        }
        return Run(x, weight, bias);
    }

    private static Tensor Run(Tensor x, Tensor weight, Tensor? bias)
    {
        bool handWritten = TorchCpuSettings.ConvolutionGradient == ConvolutionGradientRoute.ForwardConvolutions
            && x.device_type == DeviceType.CPU
            && x.dtype == ScalarType.Float32
            && is_grad_enabled()
            && (x.requires_grad || weight.requires_grad || (bias is not null && bias.requires_grad));
        if (!handWritten)
        {
            return nn.functional.conv2d(x, weight, bias, padding: Padding);
        }
        return ConvolutionByForwardPasses.Apply(x, weight, bias);
    }

    /// <summary>Ends a <see cref="ConstantWeights"/> scope; dispose it on the thread that opened it.</summary>
    public readonly struct ConstantWeightsScope : IDisposable
    {
        public void Dispose() => constantWeightsDepth--;
    }
}
