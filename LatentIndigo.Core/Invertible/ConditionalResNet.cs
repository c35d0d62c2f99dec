using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// A predict or update sub-network (algorithm.md §2.4): conv3×3 (no bias) → K conditional residual blocks →
/// conv3×3 (no bias). The layers sit under a field <c>net</c> so that the keys read
/// <c>{p|u}.net.{convin | blocks.k.* | convout}</c> as in the official weights.
/// </summary>
internal sealed class ConditionalResNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Layers net;

    public ConditionalResNet(int inChannels, int outChannels, int width, int resBlocks, int conditionSize)
        : base(nameof(ConditionalResNet))
    {
        net = new Layers(inChannels, outChannels, width, resBlocks, conditionSize);
        RegisterComponents();
    }

    /// <summary>The output convolution, exposed so training can start from an identity transform.</summary>
    public Conv2d OutputConvolution => net.OutputConvolution;

    public override Tensor forward(Tensor x, Tensor condition) => net.forward(x, condition);

    private sealed class Layers : nn.Module<Tensor, Tensor, Tensor>
    {
        // Field names are the state-dict key names; do not rename.
        private readonly Conv2d convin;
        private readonly ModuleList<ConditionalResBlock> blocks;
        private readonly Conv2d convout;

        public Layers(int inChannels, int outChannels, int width, int resBlocks, int conditionSize) : base("ResNet")
        {
            convin = nn.Conv2d(inChannels, width, 3, padding: 1, bias: false);
            blocks = nn.ModuleList(Enumerable.Range(0, resBlocks).Select(_ => new ConditionalResBlock(width, conditionSize)).ToArray());
            convout = nn.Conv2d(width, outChannels, 3, padding: 1, bias: false);
            RegisterComponents();
        }

        public Conv2d OutputConvolution => convout;

        public override Tensor forward(Tensor x, Tensor condition)
        {
            using var scope = NewDisposeScope();
            var h = InnConvolution.Apply(x, convin);
            foreach (var block in blocks)
            {
                h = block.forward(h, condition);
            }
            return InnConvolution.Apply(h, convout).MoveToOuterDisposeScope();
        }
    }
}
