using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace LatentIndigo.Invertible;

/// <summary>
/// A 3×3, stride-1, pad-1 convolution with optional bias whose backward uses no convolution backward kernel of
/// libtorch, only forward convolutions and a sum, so it is right on CPUs where oneDNN's backward is not (docs/cpu.md).
/// </summary>
/// <remarks>
/// With y = conv(x, W) + b, y[n,o,i,j] = b[o] + Σ_{c,a,b′} W[o,c,a,b′] · x̃[n,c,i+a,j+b′] (x̃: x padded by one):
/// <list type="bullet">
/// <item>∂L/∂x is the convolution of ∂L/∂y (pad 1) with W′[c,o,a,b′] = W[o,c,2−a,2−b′]: a forward convolution of the
/// same sizes as the network's own.</item>
/// <item>∂L/∂W[o,c,a,b′] = Σ_{n,i,j} ∂L/∂y[n,o,i,j] · x̃[n,c,i+a,j+b′]: the forward convolution of x̃ read as a batch of
/// C one-channel-per-image inputs [C,N,H+2,W+2] with ∂L/∂y read as O kernels [O,N,H,W], which gives [C,O,3,3].</item>
/// <item>∂L/∂b = Σ_{n,i,j} ∂L/∂y.</item>
/// </list>
/// Only what is needed is computed: each gradient only when its tensor requires one.
/// </remarks>
internal sealed class ConvolutionByForwardPasses : SingleTensorFunction<ConvolutionByForwardPasses>
{
    private const string NeedsInputGradient = "x";
    private const string NeedsWeightGradient = "w";
    private const string NeedsBiasGradient = "b";
    private static readonly long[] SumOverBatchAndPixels = [0, 2, 3];

    public override string Name => nameof(ConvolutionByForwardPasses);

    /// <summary>y = conv3×3(x, weight) + bias, differentiable with the backward above.</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias) => apply(x, weight, bias!);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var bias = vars[2] as Tensor;
        if (weight.dim() != 4 || weight.shape[2] != 3 || weight.shape[3] != 3)
        {
            throw new ArgumentException($"Expected a 3×3 kernel, got [{string.Join(",", weight.shape)}].", nameof(vars));
        }
        ctx.save_for_backward([x, weight]);
        ctx.save_data(NeedsInputGradient, x.requires_grad);
        ctx.save_data(NeedsWeightGradient, weight.requires_grad);
        ctx.save_data(NeedsBiasGradient, bias is not null && bias.requires_grad);
        return nn.functional.conv2d(x, weight, bias, padding: InnConvolution.Padding);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var x = saved[0];
        var weight = saved[1];
        var gradOutput = grad_output.contiguous();
        Tensor? inputGradient = null, weightGradient = null, biasGradient = null;
        if ((bool)ctx.get_data(NeedsInputGradient))
        {
            using var flipped = weight.transpose(0, 1).flip(2, 3).contiguous();
            inputGradient = nn.functional.conv2d(gradOutput, flipped, padding: InnConvolution.Padding);
        }
        if ((bool)ctx.get_data(NeedsWeightGradient))
        {
            using var images = x.transpose(0, 1);
            using var kernels = gradOutput.transpose(0, 1);
            using var transposed = nn.functional.conv2d(images, kernels, padding: InnConvolution.Padding); // [C,O,3,3]
            weightGradient = transposed.transpose(0, 1).contiguous();
        }
        if ((bool)ctx.get_data(NeedsBiasGradient))
        {
            biasGradient = gradOutput.sum(SumOverBatchAndPixels);
        }
        // The autograd node owns what it is handed; keep it out of this scope.
        return [inputGradient?.DetachFromDisposeScope()!, weightGradient?.DetachFromDisposeScope()!, biasGradient?.DetachFromDisposeScope()!];
    }
}
