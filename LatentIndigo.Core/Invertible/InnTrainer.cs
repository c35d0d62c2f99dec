using System.Diagnostics;
using System.Globalization;
using LatentIndigo.Degradations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// Trains a <see cref="LiftingInn"/> so that its coarse band imitates a degradation (algorithm.md §3): pairs
/// (x, y = degradation(x)) are made on the fly from random crops (with flips and 90° rotations), the loss is
/// MSE(coarse(x), y) plus optional extra terms, optimised with Adam under a warm-up + cosine schedule. Validation
/// reports the PSNR of the coarse band against the true degraded image on held-out images.
/// </summary>
public sealed partial class InnTrainer
{
    private readonly LiftingInn inn;
    private readonly IDegradationModel degradation;
    private readonly InnTrainingOptions options;
    private readonly ILogger logger;

    /// <summary>Creates a trainer; nothing runs until <see cref="Train"/>.</summary>
    /// <param name="inn">The network to train, in place (float32, CPU or CUDA).</param>
    /// <param name="degradation">The degradation to imitate; its scale factor must equal the INN's 2^J.</param>
    /// <param name="options">Training settings (copied values are read at <see cref="Train"/>).</param>
    /// <param name="logger">Optional logger.</param>
    public InnTrainer(LiftingInn inn, IDegradationModel degradation, InnTrainingOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(degradation);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (degradation.ScaleFactor != inn.ScaleFactor)
        {
            throw new InnInputException(
                $"The degradation '{degradation.Spec}' scales by {degradation.ScaleFactor} but the INN's coarse band is {inn.ScaleFactor}× smaller " +
                $"(Levels = {inn.Levels}): use an INN with 2^Levels = {degradation.ScaleFactor}.");
        }
        if (options.CropSize % inn.ScaleFactor != 0)
        {
            throw new ArgumentException($"CropSize {options.CropSize} must be a multiple of {inn.ScaleFactor}.", nameof(options));
        }
        this.inn = inn;
        this.degradation = degradation;
        this.options = options;
        this.logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Optional per-batch condition γ computed from the degraded batch y; null uses the network's
    /// <see cref="LiftingInn.Encoder"/>, trained jointly with it, or the constant ones condition without one.
    /// </summary>
    public Func<Tensor, Tensor>? ConditionFromLowQuality { get; set; }

    /// <summary>
    /// Optional map applied to both the clean crops x and their degraded versions y before the loss, so the INN learns
    /// in that space: MSE(coarse(R(x)), R(y)). For a latent INN this is the VAE encoder (algorithm.md §3.2). Null: pixels.
    /// </summary>
    public Func<Tensor, Tensor>? Representation { get; set; }

    /// <summary>Image pixels per representation pixel (8 for SD's VAE); crops must be multiples of this × 2^J.</summary>
    public int RepresentationDownscale { get; set; } = 1;

    /// <summary>Optional extra loss term added to the MSE: (coarse, y) → scalar.</summary>
    public Func<Tensor, Tensor, Tensor>? ExtraLoss { get; set; }

    /// <summary>
    /// What else the trained bytes depend on, in the caller's words (initial weights, the VAE of a latent INN, encoder
    /// pre-training): recorded in the checkpoint with the trainer's own settings (<see cref="InnRunSettings"/>), so a
    /// resume with any of them changed is refused.
    /// </summary>
    internal IReadOnlyDictionary<string, string> RunSettings { get; set; } = new Dictionary<string, string>();

    /// <summary>Trains for the configured steps (resuming from the checkpoint when asked).</summary>
    /// <param name="training">Images to crop from; each must be at least <see cref="InnTrainingOptions.CropSize"/> per side.</param>
    /// <param name="validation">Held-out images for the coarse-vs-LQ PSNR, or null.</param>
    /// <param name="progress">Receives a report every <see cref="InnTrainingOptions.ReportEvery"/> steps and after validations.</param>
    /// <param name="cancellationToken">Stops between steps with <see cref="OperationCanceledException"/>; the last checkpoint stays.</param>
    public InnTrainingResult Train(InnImageSet training, InnImageSet? validation = null,
        IProgress<InnTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        int multiple = inn.ScaleFactor * Math.Max(1, RepresentationDownscale);
        if (options.CropSize % multiple != 0)
        {
            throw new ArgumentException(
                $"CropSize {options.CropSize} must be a multiple of {multiple} (2^J × the representation's downscale {RepresentationDownscale}).");
        }
        var usable = UsableImages(training);
        if (usable.Length < training.Count)
        {
            logger.LogWarning("{Skipped} training images are smaller than the crop size {Crop} and are skipped.", training.Count - usable.Length, options.CropSize);
        }

        var stopwatch = Stopwatch.StartNew();
        var device = inn.Device;
        // A degradation encoder attached to the network is trained with it (the paper's jointly learned γ = F(y)), in a
        // parameter group of its own with a scaled learning rate.
        var groups = new List<Adam.ParamGroup> { new(inn.parameters(), new Adam.Options { LearningRate = options.LearningRate }) };
        var rateScales = new List<double> { 1 };
        if (inn.Encoder is { } attached)
        {
            groups.Add(new(attached.parameters(), new Adam.Options { LearningRate = options.LearningRate * options.EncoderLearningRateScale }));
            rateScales.Add(options.EncoderLearningRateScale);
        }
        using var adam = optim.Adam(groups, options.LearningRate, options.Beta1, options.Beta2, weight_decay: options.WeightDecay);
        var settings = InnRunSettings.Describe(options, degradation, inn, RepresentationDownscale, ConditionFromLowQuality is not null,
            training, validation, RunSettings);
        // Crops and augmentation from a seeded .NET random, degradations from a seeded torch generator. A resume puts
        // both where the interrupted run had them (the random by replaying its draws, the generator from the
        // checkpoint), so it continues with the crops and degradations an uninterrupted run would have drawn.
        var random = new Random(unchecked((int)options.Seed * 7919));
        using var generator = new Generator(options.Seed * 1_000_003UL, device);
        int startStep = 0;
        double? lastPsnr = null;
        if (options.CheckpointPath is not null)
        {
            AtomicFile.DeleteLeftovers(Path.GetFullPath(options.CheckpointPath)); // interrupted checkpoint writes
        }
        if (options.Resume && options.CheckpointPath is not null && File.Exists(options.CheckpointPath))
        {
            (startStep, lastPsnr) = LoadCheckpoint(options.CheckpointPath, adam, generator, settings);
            for (int step = 0; step < startStep; step++)
            {
                for (int b = 0; b < options.BatchSize; b++)
                {
                    DrawCrop(training, usable, random);
                }
            }
            logger.LogInformation("Resumed from {Path} at step {Step}.", options.CheckpointPath, startStep);
        }
        else if (options.StartFromLazyWavelet)
        {
            inn.ResetToLazyWavelet();
        }

        var history = new List<(int, double)>();
        double lossSum = 0;
        int lossCount = 0;
        double lastLoss = double.NaN;
        inn.train();
        for (int step = startStep; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double lr = options.LearningRateAt(step);
            int groupIndex = 0;
            foreach (var group in adam.ParamGroups)
            {
                group.LearningRate = lr * rateScales[groupIndex++];
            }
            double loss = TrainStep(adam, training, usable, random, generator, device);
            if (!double.IsFinite(loss))
            {
                throw new LatentIndigoException(
                    $"Training diverged at step {step + 1} (loss {loss}). Lower the learning rate (now {lr:g3}) and resume from the last checkpoint.");
            }
            lossSum += loss;
            lossCount++;
            int done = step + 1;
            bool last = done == options.Steps;
            bool validate = validation is not null && (last || (options.ValidateEvery > 0 && done % options.ValidateEvery == 0));
            if (validate)
            {
                lastPsnr = Evaluate(validation!, cancellationToken).Average(r => r.Psnr);
                inn.train();
                logger.LogInformation("Step {Step}: validation PSNR {Psnr:F2} dB.", done, lastPsnr);
            }
            if (done % options.ReportEvery == 0 || last || validate)
            {
                lastLoss = lossSum / lossCount;
                history.Add((done, lastLoss));
                progress?.Report(new InnTrainingProgress(done, options.Steps, lastLoss, lr, validate ? lastPsnr : null, stopwatch.Elapsed));
                lossSum = 0;
                lossCount = 0;
            }
            if (options.CheckpointPath is not null && (last || done % options.CheckpointEvery == 0))
            {
                SaveCheckpoint(options.CheckpointPath, adam, generator, settings, done, lastPsnr);
            }
        }
        inn.eval();
        return new InnTrainingResult(options.Steps, lastLoss, lastPsnr, stopwatch.Elapsed, history);
    }

    /// <summary>
    /// Coarse-vs-true-LQ PSNR (dB, peak 1) per image: each image is cropped at the bottom/right to a multiple of 2^J,
    /// degraded with a generator seeded by its index (so random degradations are the same every time), and compared
    /// with the INN's coarse band.
    /// </summary>
    public IReadOnlyList<(string Name, double Psnr)> Evaluate(InnImageSet images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return InnEvaluation.CoarsePsnr(inn, degradation, images, ConditionFromLowQuality, Representation, RepresentationDownscale, cancellationToken);
    }

    private double TrainStep(optim.Optimizer adam, InnImageSet training, int[] usable, Random random, Generator generator, Device device)
    {
        using var scope = NewDisposeScope();
        var crops = new Tensor[options.BatchSize];
        for (int b = 0; b < options.BatchSize; b++)
        {
            crops[b] = RandomCrop(training, usable, random);
        }
        var x = stack(crops).to(device);
        Tensor y;
        using (no_grad())
        {
            y = degradation.Apply(x, generator);
            if (options.QuantizeTargets)
            {
                y = y.clamp(0, 1).mul(255).round().div(255);
            }
        }
        var condition = ConditionFromLowQuality?.Invoke(y);
        var image = y; // what an encoder that sees images (LiftingInn.EncoderSeesImages) gets
        if (Representation is not null)
        {
            using (no_grad())
            {
                x = Representation(x);
                y = Representation(y);
            }
        }
        adam.zero_grad();
        if (condition is null && inn.Encoder is { } encoder)
        {
            // With gradients: the loss reaches the encoder through γ.
            encoder.train();
            condition = encoder.forward(inn.EncoderSeesImages ? image : y);
        }
        using var decomposition = inn.Forward(x, condition);
        if (!decomposition.Coarse.shape.SequenceEqual(y.shape))
        {
            throw new InnInputException(
                $"The degradation '{degradation.Spec}' made [{string.Join(",", y.shape)}] from [{string.Join(",", x.shape)}] but the INN's coarse band is [{string.Join(",", decomposition.Coarse.shape)}].");
        }
        var loss = nn.functional.mse_loss(decomposition.Coarse, y);
        if (ExtraLoss is not null)
        {
            loss = loss + ExtraLoss(decomposition.Coarse, y);
        }
        loss.backward();
        adam.step();
        return loss.ToDouble();
    }

    /// <summary>A random crop [C, CropSize, CropSize] of a random usable image, flipped and rotated when augmenting.</summary>
    private Tensor RandomCrop(InnImageSet training, int[] usable, Random random)
    {
        var (index, top, left, flipWidth, flipHeight, turns) = DrawCrop(training, usable, random);
        var crop = training.Images[index].narrow(1, top, options.CropSize).narrow(2, left, options.CropSize);
        if (flipWidth) crop = crop.flip(2);
        if (flipHeight) crop = crop.flip(1);
        if (turns > 0) crop = crop.rot90(turns, (1, 2));
        return crop;
    }

    /// <summary>The random draws of one crop, apart from the pixels: a resume replays them to put the random where it was.</summary>
    private (int Index, int Top, int Left, bool FlipWidth, bool FlipHeight, int Turns) DrawCrop(InnImageSet training, int[] usable, Random random)
    {
        int index = usable[random.Next(usable.Length)];
        var image = training.Images[index];
        int top = random.Next((int)image.shape[1] - options.CropSize + 1);
        int left = random.Next((int)image.shape[2] - options.CropSize + 1);
        if (!options.Augment)
        {
            return (index, top, left, false, false, 0);
        }
        bool flipWidth = random.Next(2) == 1, flipHeight = random.Next(2) == 1;
        return (index, top, left, flipWidth, flipHeight, random.Next(4));
    }

    /// <summary>The training images at least CropSize on both sides; throws when there are none.</summary>
    private int[] UsableImages(InnImageSet training)
    {
        var usable = Enumerable.Range(0, training.Count)
            .Where(i => training.Images[i].shape[1] >= options.CropSize && training.Images[i].shape[2] >= options.CropSize)
            .ToArray();
        if (usable.Length == 0)
        {
            throw new LatentIndigoException(
                $"None of the {training.Count} training images is at least {options.CropSize}×{options.CropSize}: lower CropSize or add larger images.");
        }
        return usable;
    }

    private void SaveCheckpoint(string path, optim.Optimizer adam, Generator generator, SortedDictionary<string, string> settings, int step, double? psnr)
    {
        inn.Metadata["degradation"] = degradation.Spec;
        inn.Metadata["training.steps"] = step.ToString(CultureInfo.InvariantCulture);
        if (psnr is { } p)
        {
            inn.Metadata["validation.psnr"] = p.ToString("F2", CultureInfo.InvariantCulture);
        }
        using var network = new MemoryStream();
        inn.Save(network);
        using var optimizer = new MemoryStream();
        using (var writer = new BinaryWriter(optimizer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            ((Adam)adam).save_state_dict(writer);
        }
        using var state = generator.get_state();
        new InnCheckpoint
        {
            Settings = settings,
            Step = step,
            ValidationPsnr = psnr,
            Network = network.ToArray(),
            Optimizer = optimizer.ToArray(),
            Generator = state.data<byte>().ToArray(),
        }.Save(path);
        logger.LogInformation("Checkpoint at step {Step}: {Path}", step, path);
    }

    private (int Step, double? Psnr) LoadCheckpoint(string path, optim.Optimizer adam, Generator generator, SortedDictionary<string, string> settings)
    {
        var checkpoint = InnCheckpoint.Load(path);
        var differences = RecordedSettings.Differences(checkpoint.Settings, settings);
        if (differences.Count > 0)
        {
            throw new InnCheckpointMismatchException(path, differences);
        }
        using var saved = LiftingInn.Load(new MemoryStream(checkpoint.Network), path);
        if (saved.Options.ToString() != inn.Options.ToString())
        {
            throw new InnWeightsException($"Checkpoint '{path}' is for an INN with {saved.Options}, not {inn.Options}.");
        }
        using (no_grad())
        {
            var target = inn.state_dict();
            foreach (var (key, value) in saved.state_dict())
            {
                target[key].copy_(value);
            }
            if ((saved.Encoder?.Width) != (inn.Encoder?.Width))
            {
                throw new InnWeightsException(
                    $"Checkpoint '{path}' has {(saved.Encoder is null ? "no degradation encoder" : $"a degradation encoder of width {saved.Encoder.Width}")} but the INN being trained has "
                    + $"{(inn.Encoder is null ? "none" : $"one of width {inn.Encoder.Width}")}: resume with the same setting.");
            }
            if (saved.Encoder is { } savedEncoder)
            {
                var encoderTarget = inn.Encoder!.state_dict();
                foreach (var (key, value) in savedEncoder.state_dict())
                {
                    encoderTarget[key].copy_(value);
                }
            }
        }
        foreach (var (key, value) in saved.Metadata)
        {
            inn.Metadata[key] = value;
        }
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Optimizer)))
        {
            ((Adam)adam).load_state_dict(reader);
        }
        using (var state = tensor(checkpoint.Generator, dtype: uint8))
        {
            generator.set_state(state);
        }
        return (checkpoint.Step, checkpoint.ValidationPsnr);
    }
}
