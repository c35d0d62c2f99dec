using System.ComponentModel;
using System.Globalization;
using LatentIndigo.Invertible;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo train-inn</c>: trains a pixel INN to imitate a degradation on random crops of an image folder,
/// with periodic checkpoints (resumable) and validation PSNR of the coarse band against the true low-quality image.
/// </summary>
public sealed class TrainInnCommand : Command<TrainInnCommand.Settings>
{
    /// <summary>Contrastive pre-training steps for a new encoder (the shipped realworld-x4's recipe, docs/inn-training.md).</summary>
    private const int DefaultEncoderPretrainSteps = 400;

    /// <summary>Options of <c>train-inn</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>Training image folders or files.</summary>
        [CommandOption("--images <PATH>")]
        [Description("Training images: a folder (all .png/.jpg/.jpeg/.webp/.bmp in it) or a file; repeat for more.")]
        public string[] Images { get; init; } = [];

        /// <summary>Validation image folders or files.</summary>
        [CommandOption("--val <PATH>")]
        [Description("Held-out validation images (folder or file; repeatable): coarse-vs-true-LQ PSNR is reported.")]
        public string[] Validation { get; init; } = [];

        /// <summary>Degradation spec.</summary>
        [CommandOption("--degradation <SPEC>")]
        [Description("Degradation to imitate, e.g. bicubic:x4 or realesrgan:x4 (see `degrade --help`).")]
        public string Degradation { get; init; } = "";

        /// <summary>Total optimiser steps.</summary>
        [CommandOption("--steps <N>")]
        [Description("Total optimiser steps (default 2000).")]
        [DefaultValue(2000)]
        public int Steps { get; init; } = 2000;

        /// <summary>Output weights file.</summary>
        [CommandOption("--out <FILE>")]
        [Description("Output weights (.inn). Checkpoints go to <FILE>.ckpt (one file: weights, optimiser and random state, the run's settings) for --resume.")]
        public string Out { get; init; } = "";

        /// <summary>Batch size.</summary>
        [CommandOption("--batch <N>")]
        [Description("Crops per step (default 8).")]
        [DefaultValue(8)]
        public int Batch { get; init; } = 8;

        /// <summary>Crop size.</summary>
        [CommandOption("--crop <PIXELS>")]
        [Description("Side of the square high-quality crops (default 128; realesrgan needs at least 160).")]
        [DefaultValue(128)]
        public int Crop { get; init; } = 128;

        /// <summary>Peak learning rate.</summary>
        [CommandOption("--lr <RATE>")]
        [Description("Peak Adam learning rate (default 5e-4), with warm-up and cosine decay to --min-lr.")]
        [DefaultValue(5e-4)]
        public double LearningRate { get; init; } = 5e-4;

        /// <summary>Final learning rate.</summary>
        [CommandOption("--min-lr <RATE>")]
        [Description("Learning rate at the end of the cosine decay (default 1e-5).")]
        [DefaultValue(1e-5)]
        public double MinLearningRate { get; init; } = 1e-5;

        /// <summary>Warm-up steps.</summary>
        [CommandOption("--warmup <N>")]
        [Description("Linear warm-up steps (default 50).")]
        [DefaultValue(50)]
        public int Warmup { get; init; } = 50;

        /// <summary>Adam weight decay.</summary>
        [CommandOption("--weight-decay <W>")]
        [Description("Adam weight decay (default 0).")]
        [DefaultValue(0.0)]
        public double WeightDecay { get; init; }

        /// <summary>Residual blocks per sub-network.</summary>
        [CommandOption("--res-blocks <K>")]
        [Description("Conditional residual blocks per predict/update network (default 2, as INDIGO+).")]
        [DefaultValue(2)]
        public int ResBlocks { get; init; } = 2;

        /// <summary>Validation interval.</summary>
        [CommandOption("--validate-every <N>")]
        [Description("Validate every N steps and at the end (default 250).")]
        [DefaultValue(250)]
        public int ValidateEvery { get; init; } = 250;

        /// <summary>Checkpoint interval.</summary>
        [CommandOption("--checkpoint-every <N>")]
        [Description("Write <FILE>.ckpt every N steps (default 250).")]
        [DefaultValue(250)]
        public int CheckpointEvery { get; init; } = 250;

        /// <summary>Resume from the checkpoint.</summary>
        [CommandOption("--resume")]
        [Description("Continue from <FILE>.ckpt if it exists: the result is the bytes of one uninterrupted run. A checkpoint of other settings or images is refused, naming what differs.")]
        public bool Resume { get; init; }

        /// <summary>Train a degradation encoder with the INN.</summary>
        [CommandOption("--encoder")]
        [Description("Train a degradation encoder F with the INN (γ = F(y), the paper's per-image condition), stored in the same file. With --init, a network that has none gets a new one (it starts at γ = 1, so training starts from the initial network's behaviour).")]
        public bool Encoder { get; init; }

        /// <summary>Encoder learning-rate multiple.</summary>
        [CommandOption("--encoder-lr-scale <X>")]
        [Description("With --encoder: the encoder's learning rate as a multiple of --lr (default 1; 3 and more can saturate γ, docs/inn-training.md).")]
        [DefaultValue(1.0)]
        public double EncoderLearningRateScale { get; init; } = 1;

        /// <summary>Contrastive pre-training steps for the encoder.</summary>
        [CommandOption("--encoder-pretrain <STEPS>")]
        [Description("First pre-train the degradation encoder for this many contrastive steps, so that its embedding tells degradations apart before joint training (docs/inn-training.md). Default: 400 for an encoder new in this run (--encoder), else 0. Skipped with --resume.")]
        public int? EncoderPretrain { get; init; }

        /// <summary>Initial weights.</summary>
        [CommandOption("--init <INN>")]
        [Description("Start from these weights (a .inn/.pth file or a bundled name) instead of the plain polyphase split.")]
        public string? Init { get; init; }

        /// <summary>Quantise targets.</summary>
        [CommandOption("--quantize")]
        [Description("Round the degraded targets to 8-bit levels, as a saved low-quality image would be.")]
        public bool Quantize { get; init; }

        /// <summary>Seed.</summary>
        [CommandOption("--seed <N>")]
        [Description("Seed for a new network's initial weights, crops, augmentation and random degradations (default 1).")]
        [DefaultValue(1)]
        public int Seed { get; init; } = 1;

        /// <summary>Torch threads.</summary>
        [CommandOption("--threads <N>")]
        [Description("CPU threads for TorchSharp (default: libtorch's choice).")]
        public int? Threads { get; init; }

        /// <summary>Train a latent INN.</summary>
        [CommandOption("--latent")]
        [Description("Train a latent INN on VAE latents, MSE(coarse(E(x)), E(y)), for latent guidance. Needs --vae.")]
        public bool Latent { get; init; }

        /// <summary>Stable Diffusion export whose VAE encoder defines the latent space.</summary>
        [CommandOption("--vae <FOLDER>")]
        [Description("Stable Diffusion ONNX export folder whose VAE encoder maps images to latents (with --latent).")]
        public string? Vae { get; init; }

        /// <summary>Train the latent INN for the generated stand-in models' VAE.</summary>
        [CommandOption("--stand-in")]
        [Description("With --latent: use the VAE of the generated stand-in models (random weights, the CLI's --stand-in demo) instead of --vae. Good only for that demo.")]
        public bool StandIn { get; init; }

        /// <summary>Every problem of the command line at once (contradicting options, values out of range), before anything is read or written.</summary>
        public override ValidationResult Validate()
        {
            var problems = new List<string>();
            if (StandIn && (!Latent || Vae is not null)) problems.Add("--stand-in goes with --latent and replaces --vae.");
            if (Latent && !StandIn && string.IsNullOrWhiteSpace(Vae)) problems.Add("--latent needs --vae <export folder> (or --stand-in): the latent space is that VAE's.");
            if (!Latent && Vae is not null) problems.Add("--vae only applies with --latent.");
            if (Images.Length == 0) problems.Add("--images is required (a folder or file of training images).");
            if (string.IsNullOrWhiteSpace(Degradation)) problems.Add("--degradation is required, e.g. bicubic:x4.");
            if (string.IsNullOrWhiteSpace(Out)) problems.Add("--out is required (the weights file to write).");
            if (Steps < 1) problems.Add("--steps must be at least 1.");
            if (EncoderPretrain is < 0 or > 1_000_000) problems.Add("--encoder-pretrain must be 0 or more steps.");
            if (Threads is < 1 or > 1024) problems.Add("--threads must be at least 1.");
            // A usage error (exit code 2) lists the settings' problems too, so that every problem shows at once; the
            // settings' problems alone are refused at the start of the command (exit code 1, as any bad setting).
            if (problems.Count > 0)
            {
                problems.AddRange(SettingsProblems());
            }
            return problems.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(CliErrors.List(problems));
        }

        /// <summary>The problems of the training settings the options make: the degradation spec and its factor, <see cref="InnTrainingOptions.Validate"/>.</summary>
        internal List<string> SettingsProblems()
        {
            var problems = new List<string>();
            if (!string.IsNullOrWhiteSpace(Degradation))
            {
                try
                {
                    var degradation = InnCommandSupport.ParseDegradation(Degradation);
                    InnCommandSupport.LevelsFor(degradation.ScaleFactor, $"The degradation '{degradation.Spec}'");
                }
                catch (CliUserException ex)
                {
                    problems.Add(ex.Message);
                }
            }
            try
            {
                (ToTrainingOptions() with { Steps = Math.Max(1, Steps) }).Validate(); // --steps is named by Validate
            }
            catch (InvalidInnOptionsException ex)
            {
                problems.Add(ex.Message);
            }
            return problems;
        }

        /// <summary>The trainer's options of the command line.</summary>
        internal InnTrainingOptions ToTrainingOptions() => new()
        {
            Steps = Steps,
            BatchSize = Batch,
            CropSize = Crop,
            LearningRate = LearningRate,
            MinLearningRate = Math.Min(MinLearningRate, LearningRate),
            WarmupSteps = Warmup,
            WeightDecay = WeightDecay,
            EncoderLearningRateScale = EncoderLearningRateScale,
            ValidateEvery = ValidateEvery,
            CheckpointEvery = CheckpointEvery,
            CheckpointPath = Out + ".ckpt",
            Resume = Resume,
            QuantizeTargets = Quantize,
            StartFromLazyWavelet = Init is null,
            Seed = (ulong)Seed,
            ReportEvery = 10,
        };
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        // libtorch's thread count is process-wide: set it for this command only, so a host that runs commands in-process
        // (tests, an app embedding the CLI) gets its own setting back. It matters beyond speed: blind refinement's
        // weight gradients sum in a thread-count-dependent order, so restores after a changed count differ in the last bits.
        int previousThreads = torch.get_num_threads();
        if (settings.Threads is { } threads)
        {
            torch.set_num_threads(threads);
        }
        try
        {
            return Train(settings, cancellationToken);
        }
        finally
        {
            if (settings.Threads is not null)
            {
                torch.set_num_threads(previousThreads);
            }
        }
    }

    private static int Train(Settings settings, CancellationToken cancellationToken)
    {
        // Every problem of the settings at once, before anything is read or written.
        if (settings.SettingsProblems() is { Count: > 0 } problems)
        {
            throw new CliUserException(CliErrors.List(problems));
        }
        var degradation = InnCommandSupport.ParseDegradation(settings.Degradation);
        int levels = InnCommandSupport.LevelsFor(degradation.ScaleFactor, $"The degradation '{degradation.Spec}'");
        var options = settings.ToTrainingOptions();
        try
        {
            options.Validate();
        }
        catch (InvalidInnOptionsException ex)
        {
            throw new CliUserException(ex.Message);
        }

        // A latent INN learns in the export's latent space: both the clean crops and their degraded versions go through
        // the VAE encoder (scaled mean) first, so its coarse band imitates E(y) from E(x) (algorithm.md §3.2, §4.4).
        using var standIn = settings.StandIn ? PipelineFactory.CreateStandIn("none") : null;
        using var models = settings.Latent ? Diffusion.StableDiffusionModels.Load(standIn?.Path ?? settings.Vae!) : null;
        int channels = models?.LatentChannels ?? 3;
        // The new network's (and encoder's) random weights come from --seed, through generators of their own (not
        // libtorch's global one): two runs of one command start alike, so a resumed run can end with the bytes of an
        // uninterrupted one (docs/reliability.md).
        using var inn = settings.Init is null
            ? new LiftingInn(new LiftingInnOptions { Channels = channels, Offset = settings.Latent ? 0 : 0.5, Levels = levels, ResBlocks = settings.ResBlocks },
                seed: settings.Seed)
            : InnCommandSupport.LoadInn(settings.Init);
        if (inn.Channels != channels)
        {
            throw new CliUserException($"The INN has {inn.Channels} channels but the {(settings.Latent ? "latent space" : "images")} have {channels}.");
        }
        // Resuming means a checkpoint is there to resume from: without one, --resume trains from the start like a fresh run.
        bool resuming = settings.Resume && File.Exists(options.CheckpointPath);
        bool newEncoder = settings.Encoder && inn.Encoder is null;
        if (settings.Encoder && inn.Encoder is null)
        {
            // A latent INN's encoder looks at the low-quality image itself: the VAE's 8× encoding keeps little of the
            // noise and blocking that tell degradations apart (LiftingInn.EncoderSeesImages).
            inn.Encoder = new DegradationEncoder(settings.Latent ? DegradationEncoder.ImageChannels : inn.Channels, inn.ConditionSize,
                seed: settings.Seed);
        }
        // A new encoder trained only jointly learned a γ that ignored its input (docs/inn-training.md): pre-train it.
        int pretrainSteps = settings.EncoderPretrain ?? (newEncoder ? DefaultEncoderPretrainSteps : 0);
        var console = CliApp.Console;
        using var training = InnImageSet.FromPaths(settings.Images, cancellationToken);
        using var validation = settings.Validation.Length > 0 ? InnImageSet.FromPaths(settings.Validation, cancellationToken) : null;
        console.WriteLine(
            $"Training a {(settings.Latent ? "latent" : "pixel")} INN ({inn.Options}; {inn.ParameterCount:N0} parameters" +
            (inn.Encoder is null ? "" : $", with a degradation encoder of {inn.Encoder.ParameterCount:N0}") + $") to imitate {degradation.Spec} on {training.Count} images" +
            (validation is null ? "" : $", validating on {validation.Count}") + $": {options.Steps} steps, batch {options.BatchSize}, crops {options.CropSize} px, torch threads {torch.get_num_threads()}.");

        var trainer = new InnTrainer(inn, degradation, options);
        if (models is not null)
        {
            var vae = models.Vae;
            trainer.Representation = x => vae.Encode(x.clamp(0, 1), cancellationToken: cancellationToken);
            trainer.RepresentationDownscale = vae.DownscaleFactor;
            inn.Metadata["space"] = "latent";
            inn.Metadata["vae"] = standIn is not null ? "stand-in" : Path.GetFileName(Path.GetFullPath(settings.Vae!).TrimEnd(Path.DirectorySeparatorChar));
            inn.Metadata["vae.scaling_factor"] = vae.ScalingFactor.ToString("R", CultureInfo.InvariantCulture);
            if (models.IsStandIn)
            {
                console.MarkupLine("[yellow]The VAE is a generated stand-in: this latent INN is only good for the stand-in demo.[/]");
            }
        }
        var progress = new InlineProgress(p =>
        {
            double psnr = 10 * Math.Log10(1 / Math.Max(p.Loss, 1e-20));
            var line = string.Create(CultureInfo.InvariantCulture,
                $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:E3} ({psnr:F2} dB)  lr {p.LearningRate:E2}  {p.Elapsed:hh\\:mm\\:ss}");
            if (p.ValidationPsnr is { } v)
            {
                line += string.Create(CultureInfo.InvariantCulture, $"  validation {v:F2} dB");
            }
            console.WriteLine(line);
        });
        // What the weights depend on besides the trainer's own settings: the checkpoint records it, a resume compares it.
        trainer.RunSettings = new Dictionary<string, string>
        {
            ["init"] = settings.Init is null ? "none (plain polyphase split)" : InnCommandSupport.InnIdentity(settings.Init),
            ["encoder.new"] = newEncoder ? "yes" : "no",
            ["encoder.pretrain"] = pretrainSteps.ToString(CultureInfo.InvariantCulture),
            ["space"] = settings.Latent ? "latent" : "pixel",
            ["vae"] = settings.StandIn ? "stand-in" : settings.Vae is null ? "none" : InnCommandSupport.FolderIdentity(settings.Vae),
        };
        if (pretrainSteps > 0 && !resuming)
        {
            if (inn.Encoder is null)
            {
                throw new CliUserException("--encoder-pretrain needs a degradation encoder: add --encoder (or --init a network that has one).");
            }
            console.WriteLine($"Pre-training the degradation encoder: {pretrainSteps} contrastive steps.");
            double matched = trainer.PretrainEncoder(training, pretrainSteps, new InlineProgress(p =>
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"encoder step {p.Step}/{p.TotalSteps}  contrastive loss {p.Loss:F3}  {p.Elapsed:hh\\:mm\\:ss}"))), cancellationToken);
            inn.Metadata["encoder.pretrain.steps"] = pretrainSteps.ToString(CultureInfo.InvariantCulture);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Encoder pre-trained: in the last step, {matched:P0} of the pairs found their partner."));
        }
        var result = trainer.Train(training, validation, progress, cancellationToken);

        inn.Metadata["degradation"] = degradation.Spec;
        inn.Metadata["training.steps"] = result.Steps.ToString(CultureInfo.InvariantCulture);
        inn.Metadata["training.images"] = training.Count.ToString(CultureInfo.InvariantCulture);
        if (result.ValidationPsnr is { } final)
        {
            inn.Metadata["validation.psnr"] = final.ToString("F2", CultureInfo.InvariantCulture);
            inn.Metadata["validation.images"] = string.Join(",", validation!.Names);
        }
        CliPaths.EnsureParentFolder(settings.Out);
        inn.Save(settings.Out);
        console.WriteLine(
            $"Wrote {settings.Out} after {result.Steps} steps in {result.Elapsed:hh\\:mm\\:ss}" +
            (result.ValidationPsnr is { } p2 ? $"; validation coarse-vs-LQ PSNR {p2:F2} dB." : "."));
        return 0;
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool out of order).</summary>
    private sealed class InlineProgress(Action<InnTrainingProgress> report) : IProgress<InnTrainingProgress>
    {
        public void Report(InnTrainingProgress value) => report(value);
    }
}
