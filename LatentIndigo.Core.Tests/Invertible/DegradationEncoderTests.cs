using LatentIndigo.Degradations;
using LatentIndigo.Diffusion;
using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.Tests.Pipeline;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>γ = F(y): the degradation encoder, stored with its INN, trained with it, and used by the pipeline.</summary>
public class DegradationEncoderTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static DegradationEncoder RandomEncoder(int channels, long seed)
    {
        var encoder = new DegradationEncoder(channels, 128, width: 8);
        InnTestHelpers.RandomizeWeights(encoder, new Generator((ulong)seed), scale: 0.3);
        return encoder;
    }

    /// <summary>
    /// The encoder's layers written out with libtorch's functional ops in float64 from its state dict: the high-pass
    /// residual (y minus the mean of its 3×3 neighbourhood inside the image, here as a box-filter sum over a count of
    /// valid neighbours), conv, leaky ReLU, 2× average pooling (ceil), global mean, two linear layers, 1 + tanh.
    /// </summary>
    private static Tensor ReferenceGamma(DegradationEncoder encoder, Tensor y)
    {
        var w = encoder.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().to(float64));
        Tensor Conv(Tensor h, string name) => nn.functional.conv2d(h, w[name + ".weight"], w[name + ".bias"], padding: [1, 1]);
        var y64 = y.to(float64);
        long c = y64.shape[1];
        var box = ones(c, 1, 3, 3, dtype: float64);
        var sums = nn.functional.conv2d(y64, box, padding: [1, 1], groups: c);
        var counts = nn.functional.conv2d(ones_like(y64), box, padding: [1, 1], groups: c);
        var residual = (y64 - sums / counts) * DegradationEncoder.HighPassGain;
        var h = nn.functional.leaky_relu(Conv(residual, "conv1"), 0.1);
        h = nn.functional.avg_pool2d(h, 2, ceil_mode: true);
        h = nn.functional.leaky_relu(Conv(h, "conv2"), 0.1);
        h = nn.functional.avg_pool2d(h, 2, ceil_mode: true);
        h = nn.functional.leaky_relu(Conv(h, "conv3"), 0.1);
        h = nn.functional.leaky_relu(Conv(h, "conv4"), 0.1);
        var pooled = h.mean([2L, 3L]);
        var hidden = nn.functional.leaky_relu(pooled.matmul(w["fc1.weight"].t()) + w["fc1.bias"], 0.1);
        return (hidden.matmul(w["fc2.weight"].t()) + w["fc2.bias"]).tanh() + 1;
    }

    [Fact]
    public void A_new_encoder_gives_ones_so_an_inn_behaves_as_without_one()
    {
        using var encoder = new DegradationEncoder(3, 128);
        using var y = rand(2, 3, 13, 22, generator: new Generator(1));
        using var gamma = encoder.forward(y);
        Assert.Equal(new long[] { 2, 128 }, gamma.shape);
        Assert.True(gamma.eq(1).all().item<bool>());

        using var inn = InnTestHelpers.RandomInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 }, seed: 3);
        using var x = rand(1, 3, 32, 32, generator: new Generator(2));
        using var without = inn.Forward(x, null);
        inn.Encoder = new DegradationEncoder(3, 128, width: 8);
        using var condition = inn.ConditionFor(x);
        using var with = inn.Forward(x, condition);
        Assert.True(without.Coarse.equal(with.Coarse).all().item<bool>());
    }

    [Theory]
    [InlineData(3, 16, 16)]
    [InlineData(3, 13, 21)]
    [InlineData(4, 9, 7)]
    public void Forward_matches_the_layers_written_out_in_float64(int channels, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var encoder = RandomEncoder(channels, seed: 5);
        var y = rand(2, channels, height, width, generator: new Generator(6));
        var reference = ReferenceGamma(encoder, y);
        var gamma = encoder.forward(y).to(float64);
        double relative = (gamma - reference).norm().item<double>() / reference.norm().item<double>();
        // float32 against float64 on the same sums: measured 2.9e-8…3.2e-8 (2026-11-27); 1e-5 is the library's float32 bound.
        Assert.True(relative < 1e-5, $"relative error {relative:E2}");
    }

    [Fact]
    public void Gradients_reaching_the_encoder_match_float64_autograd()
    {
        // Joint training backpropagates through γ into the encoder; its convolutions take the library's CPU-safe route.
        using var scope = NewDisposeScope();
        using var encoder = RandomEncoder(3, seed: 7);
        var y = rand(1, 3, 16, 16, generator: new Generator(8));
        var target = randn(1, 128, generator: new Generator(9));
        using (enable_grad())
        {
            var loss = (encoder.forward(y) - target).pow(2).sum();
            loss.backward();
        }
        var grads32 = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.to(float64));
        using var encoder64 = encoder.Copy();
        encoder64.to(float64);
        foreach (var p in encoder64.parameters())
        {
            p.grad?.zero_();
        }
        using (enable_grad())
        {
            var loss64 = (encoder64.forward(y.to(float64)) - target.to(float64)).pow(2).sum();
            loss64.backward();
        }
        foreach (var (name, p) in encoder64.named_parameters())
        {
            var g64 = p.grad!;
            double relative = (grads32[name] - g64).norm().item<double>() / Math.Max(g64.norm().item<double>(), 1e-30);
            // Measured 3.4e-7 for conv1.weight (2026-11-27, this machine); 1e-4 leaves room for other CPUs and parameters.
            Assert.True(relative < 1e-4, $"{name}: relative gradient error {relative:E2}");
        }
    }

    [Fact]
    public void Is_saved_with_its_inn_copied_with_it_and_damaged_files_are_refused()
    {
        var path = InnTestHelpers.TempPath(".inn");
        try
        {
            using var y = rand(1, 3, 24, 24, generator: new Generator(10));
            using (var inn = InnTestHelpers.RandomInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 }, seed: 11))
            {
                inn.Encoder = RandomEncoder(3, seed: 12);
                using var expected = inn.ConditionFor(y)!;
                inn.Save(path);
                using var loaded = LiftingInn.Load(path);
                Assert.NotNull(loaded.Encoder);
                using var gamma = loaded.ConditionFor(y)!;
                Assert.True(gamma.equal(expected).all().item<bool>());

                using var copy = inn.Copy();
                using (no_grad())
                {
                    copy.Encoder!.parameters().First().add_(1);
                }
                using var unchanged = inn.ConditionFor(y)!;
                Assert.True(unchanged.equal(expected).all().item<bool>(), "changing the copy's encoder changed the original's");
            }
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^100]);
            var ex = Assert.Throws<InnWeightsException>(() => LiftingInn.Load(path));
            Assert.Contains("encoder", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
        using var bundled = BundledInn.Load(BundledInnWeights.BicubicX4);
        Assert.Null(bundled.Encoder); // files without an encoder load as before
        using var mismatched = new LiftingInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 });
        Assert.Throws<InnInputException>(() => mismatched.Encoder = new DegradationEncoder(4, 128));
    }

    [Fact]
    public void The_trainer_trains_the_encoder_with_the_inn_and_evaluation_uses_it()
    {
        using var scope = NewDisposeScope();
        using var inn = new LiftingInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 });
        inn.Encoder = new DegradationEncoder(3, 128, width: 8);
        var before = inn.Encoder.parameters().Select(p => p.detach().clone()).ToArray();
        var images = InnImageSet.FromTensors([rand(3, 64, 64, generator: new Generator(13)), rand(3, 64, 64, generator: new Generator(14))]);
        var degradation = DegradationSpec.Parse("noise:sigma=10>bicubic:x4");
        var trainer = new InnTrainer(inn, degradation, new InnTrainingOptions { Steps = 3, BatchSize = 2, CropSize = 32, WarmupSteps = 1, LearningRate = 1e-3 });
        var result = trainer.Train(images);
        Assert.True(double.IsFinite(result.FinalLoss));
        var after = inn.Encoder.parameters().ToArray();
        Assert.Contains(Enumerable.Range(0, before.Length), i => !before[i].equal(after[i]).all().item<bool>());

        // Evaluation conditions on the encoder: an encoder giving other values than ones changes the figure.
        var withTrained = trainer.Evaluate(images).Average(r => r.Psnr);
        using (no_grad())
        {
            inn.Encoder.parameters().Last().fill_(3); // fc2's bias: γ ≈ 1 + tanh(3) ≈ 2 for every input
        }
        var withThrees = trainer.Evaluate(images).Average(r => r.Psnr);
        Assert.NotEqual(withTrained, withThrees);
    }

    [Fact]
    public void The_encoder_learns_at_its_own_scaled_rate()
    {
        // Adam's first step moves every parameter with a non-zero gradient by the learning rate (m/√v = ±1 after bias
        // correction, up to ε): the INN's by lr, the encoder's last layer by lr × EncoderLearningRateScale. (Its earlier
        // layers get no gradient yet: the last layer starts at zero weight.)
        using var scope = NewDisposeScope();
        using var inn = new LiftingInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 });
        inn.Encoder = new DegradationEncoder(3, 128, width: 8);
        var innBefore = inn.parameters().Select(p => p.detach().clone()).ToArray();
        var biasBefore = inn.Encoder.parameters().Last().detach().clone();
        var images = InnImageSet.FromTensors([rand(3, 64, 64, generator: new Generator(17))]);
        const double lr = 1e-3;
        var options = new InnTrainingOptions
        {
            Steps = 1, BatchSize = 2, CropSize = 32, WarmupSteps = 0, LearningRate = lr, MinLearningRate = lr,
            EncoderLearningRateScale = 7, StartFromLazyWavelet = false,
        };
        new InnTrainer(inn, DegradationSpec.Parse("bicubic:x4"), options).Train(images);
        double innStep = inn.parameters().Zip(innBefore, (a, b) => (a - b).abs().max().item<float>()).Max();
        double encoderStep = (inn.Encoder.parameters().Last() - biasBefore).abs().max().item<float>();
        Assert.InRange(innStep, 0.99 * lr, 1.01 * lr);
        Assert.InRange(encoderStep, 0.99 * 7 * lr, 1.01 * 7 * lr);
        var invalid = Record.Exception(() => new InnTrainingOptions { EncoderLearningRateScale = 0 }.Validate());
        Assert.Contains("EncoderLearningRateScale", invalid?.Message);
    }

    [Fact]
    public void The_pipeline_gives_guidance_gamma_of_the_whole_input()
    {
        using var inn = LatentIndigo.Invertible.BundledInn.Load(LatentIndigo.Invertible.BundledInnWeights.BicubicX4);
        inn.Encoder = RandomEncoder(3, seed: 15);
        var capture = new CapturingFactory();
        using var pipeline = new RestorationPipeline(StableDiffusionModels.Load(fixture.ModelFolder), inn, ownsComponents: true);
        using var y = rand(1, 3, 16, 24, generator: new Generator(16)); // a multiple of 8: no padding
        using var result = pipeline.Restore(y, RestoreOptions.Default with { Steps = 4, Strength = 0.5, Blind = false, Guidance = capture });
        Assert.NotNull(capture.PixelCondition);
        using var expected = inn.Encoder.forward(y);
        Assert.True(capture.PixelCondition!.equal(expected).all().item<bool>(), "guidance got another γ than F(y)");
        Assert.False(capture.PixelCondition.eq(1).all().item<bool>());
    }

    [Fact]
    public void A_latent_inns_image_encoder_gets_the_input_image_not_its_latent()
    {
        using var pixelInn = LatentIndigo.Invertible.BundledInn.Load(LatentIndigo.Invertible.BundledInnWeights.BicubicX4);
        var latentInn = new LiftingInn(LiftingInnOptions.Latent() with { Width = 8, ResBlocks = 1, Levels = 1 });
        latentInn.Encoder = RandomEncoder(DegradationEncoder.ImageChannels, seed: 19);
        var capture = new CapturingFactory(GuidanceObservation.Latent);
        using var pipeline = new RestorationPipeline(StableDiffusionModels.Load(fixture.ModelFolder), pixelInn.Copy(), latentInn, ownsComponents: true);
        using var y = rand(1, 3, 32, 32, generator: new Generator(20));
        using var result = pipeline.Restore(y, RestoreOptions.Default with
        {
            Steps = 4, Strength = 0.5, Blind = false, Guidance = capture, Strategy = GuidanceStrategy.LatentInn, ScaleFactor = 2,
        });
        Assert.NotNull(capture.LatentCondition);
        using var expected = latentInn.Encoder.forward(y);
        Assert.True(capture.LatentCondition!.equal(expected).all().item<bool>(), "the latent guidance got another γ than F(y) of the image");
    }

    private sealed class CapturingFactory(GuidanceObservation observation = GuidanceObservation.Image) : ILatentGuidanceFactory
    {
        public Tensor? PixelCondition;

        public Tensor? LatentCondition;

        public string Name => "capture";

        public GuidanceObservation Observation => observation;

        public ILatentGuidance Create(GuidanceContext context)
        {
            PixelCondition = context.ClonePixelCondition()?.DetachFromDisposeScope(); // ours: outlives the restore's scope
            LatentCondition = context.CloneLatentCondition()?.DetachFromDisposeScope();
            return new PassThrough();
        }

        private sealed class PassThrough : ILatentGuidance
        {
            public Tensor Guide(Tensor predictedOriginal, Tensor observation, bool refine, CancellationToken cancellationToken) =>
                predictedOriginal.clone();
        }
    }
}
