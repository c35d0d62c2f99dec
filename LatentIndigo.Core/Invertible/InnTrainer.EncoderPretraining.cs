using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

public sealed partial class InnTrainer
{
    /// <summary>Temperature of the contrastive loss (the value DASR and MoCo use).</summary>
    private const double PretrainTemperature = 0.1;

    /// <summary>
    /// Pre-trains the attached degradation encoder (<see cref="LiftingInn.Encoder"/>) to tell degradations apart, before
    /// <see cref="Train"/> trains it jointly with the INN. The paper's F is pre-trained; trained only jointly from γ = 1,
    /// this project's encoder learned a γ that did not depend on its input (docs/inn-training.md).
    /// </summary>
    /// <remarks>
    /// Contrastive (InfoNCE over L2-normalised embeddings, temperature 0.1, both directions), in the spirit of the
    /// degradation representations of DASR and KDSR: each step draws <see cref="InnTrainingOptions.BatchSize"/> × 2
    /// degradation seeds; for each, two crops from independently drawn images are degraded with a generator of that
    /// seed, so they share the degradation's random draws (blur, noise level, JPEG quality, mixture alternative) but
    /// not their content. Each pair must find its partner among the others, which only the degradation tells apart.
    /// Only the layers below γ's last one learn (at the INN's learning rate × the encoder scale, constant); that layer
    /// stays at zero, so γ is still 1 afterwards and joint training starts from the network's own behaviour.
    /// </remarks>
    /// <param name="training">Images to crop from (as for <see cref="Train"/>).</param>
    /// <param name="steps">Number of steps (0 does nothing).</param>
    /// <param name="progress">Receives the contrastive loss every <see cref="InnTrainingOptions.ReportEvery"/> steps.</param>
    /// <param name="cancellationToken">Stops between steps with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The fraction of pairs whose partner was the nearest embedding in the last step.</returns>
    /// <exception cref="InvalidOperationException">The INN has no encoder.</exception>
    public double PretrainEncoder(InnImageSet training, int steps, IProgress<InnTrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var encoder = inn.Encoder ?? throw new InvalidOperationException("The INN has no degradation encoder to pre-train: attach one (LiftingInn.Encoder) first.");
        var usable = UsableImages(training);
        var device = inn.Device;
        int pairs = Math.Max(2, 2 * options.BatchSize);
        double rate = options.LearningRate * options.EncoderLearningRateScale;
        using var adam = optim.Adam(encoder.EmbeddingParameters(), rate, options.Beta1, options.Beta2);
        var random = new Random(unchecked((int)options.Seed * 104_729 + 17));
        var stopwatch = Stopwatch.StartNew();
        double accuracy = 0, lossSum = 0;
        int lossCount = 0;
        encoder.train();
        for (int step = 0; step < steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var a = new Tensor[pairs];
            var b = new Tensor[pairs];
            for (int k = 0; k < pairs; k++)
            {
                ulong seed = (ulong)random.NextInt64();
                a[k] = DegradeWithSeed(RandomCrop(training, usable, random), seed, device);
                b[k] = DegradeWithSeed(RandomCrop(training, usable, random), seed, device);
            }
            var za = nn.functional.normalize(encoder.Embedding(cat(a, 0)), dim: 1);
            var zb = nn.functional.normalize(encoder.Embedding(cat(b, 0)), dim: 1);
            var logits = za.matmul(zb.t()) / PretrainTemperature;
            var targets = arange(pairs, dtype: ScalarType.Int64, device: device);
            var loss = (nn.functional.cross_entropy(logits, targets) + nn.functional.cross_entropy(logits.t(), targets)) / 2;
            adam.zero_grad();
            loss.backward();
            adam.step();
            double value = loss.ToDouble();
            if (!double.IsFinite(value))
            {
                throw new LatentIndigoException($"Encoder pre-training diverged at step {step + 1} (loss {value}). Lower the learning rate.");
            }
            using (no_grad())
            {
                accuracy = logits.argmax(1).eq(targets).to(ScalarType.Float64).mean().ToDouble();
            }
            lossSum += value;
            lossCount++;
            if ((step + 1) % options.ReportEvery == 0 || step + 1 == steps)
            {
                progress?.Report(new InnTrainingProgress(step + 1, steps, lossSum / lossCount, rate, null, stopwatch.Elapsed));
                lossSum = 0;
                lossCount = 0;
            }
        }
        encoder.eval();
        return accuracy;
    }

    /// <summary>The crop degraded with a generator of <paramref name="seed"/>, quantised and mapped as in training.</summary>
    private Tensor DegradeWithSeed(Tensor crop, ulong seed, Device device)
    {
        using var noGrad = no_grad();
        using var generator = new Generator(seed, device);
        var y = degradation.Apply(crop.unsqueeze(0).to(device), generator);
        if (options.QuantizeTargets)
        {
            y = y.clamp(0, 1).mul(255).round().div(255);
        }
        return Representation is null || inn.EncoderSeesImages ? y : Representation(y);
    }
}
