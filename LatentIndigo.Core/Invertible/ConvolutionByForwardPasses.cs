using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace LatentIndigo.Invertible;

/// <summary>
/// A 3×3, stride-1, pad-1 convolution (no bias) whose backward uses no convolution backward kernel of libtorch, only
/// forward convolutions, copies and matrix products, so it is right on CPUs where oneDNN's backward is not.
/// </summary>
/// <remarks>
/// With y = conv(x, W), y[n,o,i,j] = Σ_{c,a,b} W[o,c,a,b] · x̃[n,c,i+a,j+b] (x̃: x padded by one):
/// <list type="bullet">
/// <item>∂L/∂x is the convolution of ∂L/∂y (pad 1) with W′[c,o,a,b] = W[o,c,2−a,2−b] — a forward convolution of the
/// same sizes as the network's own, run by libtorch's fast forward path.</item>
/// <item>∂L/∂W[:,:,a,b] = Σ_n (∂L/∂y)[n] · x̃[n,:,a:a+H,b:b+W]ᵀ over the pixels: one matrix product per kernel tap.</item>
/// </list>
/// Only what is needed is computed: the input gradient when x requires it, the weight gradient when W does.
/// </remarks>
internal sealed class ConvolutionByForwardPasses : SingleTensorFunction<ConvolutionByForwardPasses>
{
    private const string NeedsInputGradient = "x";
    private const string NeedsWeightGradient = "w";

    public override string Name => nameof(ConvolutionByForwardPasses);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        if (weight.dim() != 4 || weight.shape[2] != 3 || weight.shape[3] != 3)
        {
            throw new ArgumentException($"Expected a 3×3 kernel, got [{string.Join(",", weight.shape)}].", nameof(vars));
        }
        ctx.save_for_backward([x, weight]);
        ctx.save_data(NeedsInputGradient, x.requires_grad);
        ctx.save_data(NeedsWeightGradient, weight.requires_grad);
        return nn.functional.conv2d(x, weight, padding: InnConvolution.Padding);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var x = saved[0];
        var weight = saved[1];
        var gradOutput = grad_output.contiguous();
        Tensor? inputGradient = null, weightGradient = null;
        if ((bool)ctx.get_data(NeedsInputGradient))
        {
            var flipped = weight.transpose(0, 1).flip(2, 3).contiguous();
            inputGradient = nn.functional.conv2d(gradOutput, flipped, padding: InnConvolution.Padding);
        }
        if ((bool)ctx.get_data(NeedsWeightGradient))
        {
            weightGradient = WeightGradient(x, gradOutput);
        }
        // The autograd node owns what it is handed; keep it out of this scope.
        return [inputGradient?.DetachFromDisposeScope()!, weightGradient?.DetachFromDisposeScope()!];
    }

    /// <summary>∂L/∂W <c>[O,C,3,3]</c> from x <c>[N,C,H,W]</c> and ∂L/∂y <c>[N,O,H,W]</c>.</summary>
    private static Tensor WeightGradient(Tensor x, Tensor gradOutput)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], o = gradOutput.shape[1];
        var padded = nn.functional.pad(x, [1, 1, 1, 1]);
        var g = gradOutput.view(n, o, h * w);
        var taps = new Tensor[9];
        for (int a = 0; a < 3; a++)
        {
            for (int b = 0; b < 3; b++)
            {
                // The window of x̃ that kernel tap (a, b) multiplies, as [N, H·W, C] for a batched product.
                var window = padded.narrow(2, a, h).narrow(3, b, w).reshape(n, c, h * w).transpose(1, 2);
                var perImage = g.bmm(window); // [N, O, C]
                taps[3 * a + b] = n == 1 ? perImage.squeeze(0) : perImage.sum(0, false);
            }
        }
        // [9, O, C] → [O, C, 3, 3]
        return stack(taps).permute(1, 2, 0).reshape(o, c, 3, 3);
    }
}
