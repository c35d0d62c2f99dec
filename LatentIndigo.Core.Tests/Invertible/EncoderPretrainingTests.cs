using LatentIndigo.Degradations;
using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

public sealed class EncoderPretrainingTests(ITestOutputHelper output)
{
    /// <summary>2× block averaging, then Gaussian noise whose level is drawn per image from the generator, uniformly in [0, 0.3].</summary>
    private sealed class RandomLevelNoise : IDegradationModel
    {
        public int ScaleFactor => 2;

        public string Spec => "test-random-level-noise";

        public Tensor Apply(Tensor batch, Generator? generator = null)
        {
            using var small = nn.functional.avg_pool2d(batch, 2);
            using var sigma = rand(new long[] { batch.shape[0], 1, 1, 1 }, generator: generator) * 0.3f;
            using var noise = randn(small.shape, generator: generator);
            return small + sigma * noise;
        }
    }

    [Fact]
    public void Pretraining_teaches_the_embedding_to_pair_equal_degradations_and_leaves_gamma_at_one()
    {
        using var scope = NewDisposeScope();
        using var inn = new LiftingInn(new LiftingInnOptions { Levels = 1, ResBlocks = 1, Width = 8 });
        inn.Encoder = new DegradationEncoder(3, 128, width: 8);
        // Seeded initial weights (a fresh encoder draws from libtorch's global generator), with γ's last layer at zero
        // as a new encoder has it.
        InnTestHelpers.RandomizeWeights(inn.Encoder, new Generator(7), scale: 1.4);
        using (no_grad())
        {
            foreach (var p in inn.Encoder.parameters().TakeLast(2))
            {
                p.zero_();
            }
        }
        var lastBefore = inn.Encoder.parameters().TakeLast(2).Select(p => p.detach().clone()).ToArray(); // fc2
        var firstBefore = inn.Encoder.parameters().First().detach().clone();
        using var images = InnImageSet.FromTensors(Enumerable.Range(0, 6).Select(i => rand(3, 48, 48, generator: new Generator((ulong)(30 + i)))));
        var options = new InnTrainingOptions { BatchSize = 4, CropSize = 32, LearningRate = 1e-3, EncoderLearningRateScale = 3, ReportEvery = 10 };
        var trainer = new InnTrainer(inn, new RandomLevelNoise(), options);
        var losses = new List<double>();
        double matched = trainer.PretrainEncoder(images, 80, new Progress(losses));
        output.WriteLine($"contrastive loss per 10 steps: {string.Join(", ", losses.Select(l => l.ToString("F3")))}; last step matched {matched:P0}");

        // 8 pairs a step: guessing gives a loss of ln 8 = 2.08 and matches 1/8. Measured with these seeds (2026-11-27):
        // 1.88 over the first 10 steps, 0.94–1.25 over the last 30 (mean 1.13), 62 % matched in the last step. (Unseeded
        // initial weights, before the encoder's high-pass input: 4 of 5 runs alike, one stuck near 2.0, hence the seeded
        // start.) The bound sits between learning and guessing.
        double late = losses.TakeLast(3).Average();
        Assert.True(late < 0.8 * Math.Log(8), $"the contrastive loss did not fall: {late:F3} over the last 30 steps (guessing: 2.08)");
        Assert.InRange(matched, 0, 1);
        // Only the layers below γ's last one learn: γ is still exactly 1, so joint training starts from the INN's behaviour.
        Assert.False(inn.Encoder.parameters().First().equal(firstBefore).all().item<bool>());
        var lastAfter = inn.Encoder.parameters().TakeLast(2).ToArray();
        Assert.True(lastAfter.Zip(lastBefore, (a, b) => a.equal(b).all().item<bool>()).All(same => same));
        using var gamma = inn.ConditionFor(rand(1, 3, 16, 16))!;
        Assert.Equal(1f, gamma.min().item<float>());
        Assert.Equal(1f, gamma.max().item<float>());
    }

    [Fact]
    public void Pretraining_without_an_encoder_says_what_to_do()
    {
        using var inn = new LiftingInn(new LiftingInnOptions { Levels = 1, ResBlocks = 1, Width = 8 });
        using var images = InnImageSet.FromTensors([rand(3, 48, 48)]);
        var trainer = new InnTrainer(inn, new RandomLevelNoise(), new InnTrainingOptions { CropSize = 32 });
        var ex = Assert.Throws<InvalidOperationException>(() => trainer.PretrainEncoder(images, 1));
        Assert.Contains("attach one", ex.Message, StringComparison.Ordinal);
    }

    private sealed class Progress(List<double> losses) : IProgress<InnTrainingProgress>
    {
        public void Report(InnTrainingProgress value) => losses.Add(value.Loss);
    }
}
