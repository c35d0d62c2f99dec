using System.ComponentModel;
using System.Globalization;
using LatentIndigo.Batch;
using LatentIndigo.Evaluation;
using LatentIndigo.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo batch</c>: restores a folder or a manifest into an output folder as a resumable job. The journal
/// (<see cref="RestoreBatch.JournalFileName"/>) in the output folder records every image; <c>--resume</c> continues
/// after a crash, kill or Ctrl+C; <c>batch-report.md</c> is written at the end.
/// </summary>
public sealed class BatchCommand : Command<BatchCommand.Settings>
{
    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFileName = "batch-report.md";

    /// <summary>Options of <c>batch</c>.</summary>
    public sealed class Settings : PipelineSettings
    {
        /// <summary>Input folder or manifest.</summary>
        [CommandArgument(0, "<input>")]
        [Description("A folder of low-quality images (PNG, JPEG, WebP, BMP), or a manifest: one 'input' or 'input,ground-truth' path per line.")]
        public string Input { get; init; } = "";

        /// <summary>Output folder.</summary>
        [CommandOption("-o|--output <FOLDER>")]
        [Description("Output folder: one PNG per input, the job journal and batch-report.md.")]
        public string Output { get; init; } = "";

        /// <summary>Resume.</summary>
        [CommandOption("--resume")]
        [Description("Continue the job in the output folder (same input and settings): finished images are kept, the others restored.")]
        public bool Resume { get; init; }

        /// <summary>Concurrent restorations.</summary>
        [CommandOption("--concurrency <N>")]
        [Description("Restorations at once, sharing one model set (default 1). Each needs its own working memory (docs/usage.md, Memory).")]
        [DefaultValue(1)]
        public int Concurrency { get; init; } = 1;

        /// <summary>Ground truth.</summary>
        [CommandOption("--ground-truth <FOLDER>")]
        [Description("Folder of ground-truth images with the inputs' names: the report then scores PSNR-Y and SSIM-Y as eval does.")]
        public string? GroundTruth { get; init; }

        /// <summary>Leave failed images.</summary>
        [CommandOption("--no-retry")]
        [Description("With --resume: leave failed images failed instead of trying them again.")]
        public bool NoRetry { get; init; }

        /// <summary>Stable Diffusion export folder.</summary>
        [CommandOption("--model <FOLDER>")]
        [Description("Stable Diffusion 1.x/2.x ONNX export folder. Without it: INN-only.")]
        public string? Model { get; init; }

        /// <summary>Use stand-in models.</summary>
        [CommandOption("--stand-in")]
        [Description("Run on generated stand-in models with RANDOM weights (plumbing and timing runs, not a restoration).")]
        public bool StandIn { get; init; }

        /// <summary>Compute of the stand-in models.</summary>
        [CommandOption("--stand-in-cost <COST>")]
        [Description("With --stand-in: none (default), cpu or sd.")]
        [DefaultValue("none")]
        public string StandInCost { get; init; } = "none";

        /// <summary>Strategy.</summary>
        [CommandOption("--strategy <NAME>")]
        [Description("pixel, latent, none or inn-only (default: pixel with a model, inn-only without).")]
        public string? Strategy { get; init; }

        /// <summary>Scale.</summary>
        [CommandOption("--scale <N>")]
        [Description("Upscaling factor: 1, 2, 4 or 8 (default 4).")]
        [DefaultValue(4)]
        public int Scale { get; init; } = 4;

        /// <summary>Known degradation.</summary>
        [CommandOption("--degradation <SPEC>")]
        [Description("The inputs' known degradation (e.g. bicubic:x4).")]
        public string? Degradation { get; init; }

        /// <summary>Blind mode.</summary>
        [CommandOption("--blind")]
        [Description("Refine the INN on each input while sampling (weights reset per image). On by default without --degradation.")]
        public bool Blind { get; init; }

        /// <summary>No blind refinement.</summary>
        [CommandOption("--no-blind")]
        [Description("Do not refine the INN on the inputs (faster; the default refines whenever --degradation is not given).")]
        public bool NoBlind { get; init; }

        /// <summary>Pixel INN.</summary>
        [CommandOption("--inn <INN>")]
        [Description("Pixel INN: bundled name (bicubic-x4, realworld-x4) or a weights file.")]
        public string? Inn { get; init; }

        /// <summary>Latent INN.</summary>
        [CommandOption("--latent-inn <FILE>")]
        [Description("Latent INN trained for the export's VAE (for --strategy latent).")]
        public string? LatentInn { get; init; }

        /// <summary>Steps.</summary>
        [CommandOption("--steps <N>")]
        [Description("DDIM steps of the full schedule (default 50).")]
        [DefaultValue(50)]
        public int Steps { get; init; } = 50;

        /// <summary>Strength.</summary>
        [CommandOption("--strength <S>")]
        [Description("Noise level of the start, 0-1 (default 0.57).")]
        [DefaultValue(0.57)]
        public double Strength { get; init; } = 0.57;

        /// <summary>Seed.</summary>
        [CommandOption("--seed <N>")]
        [Description("Random seed (default 12345), the same for every image.")]
        [DefaultValue(12345L)]
        public long Seed { get; init; } = 12345;

        /// <summary>Latent tile size.</summary>
        [CommandOption("--tile <N>")]
        [Description("Latent tile size in latent pixels, a multiple of 8 (default: the export's).")]
        public int? Tile { get; init; }

        /// <summary>Overwrite.</summary>
        [CommandOption("--force")]
        [Description("Start even if outputs exist in the output folder, replacing them (inputs are never overwritten).")]
        public bool Force { get; init; }

        /// <summary>
        /// Every problem of the command line at once (options that contradict each other, values out of range, the
        /// restore settings they make), before anything is read or written.
        /// </summary>
        public override ValidationResult Validate()
        {
            var problems = new List<string>();
            void Require(bool ok, string problem)
            {
                if (!ok)
                {
                    problems.Add(problem);
                }
            }
            Require(!string.IsNullOrWhiteSpace(Output), "-o|--output <folder> is required.");
            Require(Concurrency is >= 1 and <= 64, $"--concurrency must be 1-64; got {Concurrency}.");
            Require(Model is null || !StandIn, "Use either --model or --stand-in, not both.");
            Require(StandInCost is "none" or "cpu" or "sd", $"--stand-in-cost must be none, cpu or sd; got '{StandInCost}'.");
            bool strategyKnown = Strategy is null || RestoreCommand.ParseStrategy(Strategy) is not null;
            Require(strategyKnown, $"--strategy must be pixel, latent, none or inn-only; got '{Strategy}'.");
            Require(Degradation is null || !Blind, "Use either --degradation (known) or --blind (unknown), not both.");
            Require(!(Blind && NoBlind), "Use either --blind or --no-blind, not both.");
            Require(!NoRetry || Resume, "--no-retry only applies with --resume.");
            if (base.Validate() is { Successful: false } inherited)
            {
                problems.Add(inherited.Message ?? "invalid options");
            }
            // A usage error (exit code 2) lists the settings' problems too, so that every problem shows at once; the
            // settings' problems alone are refused at the start of the command (exit code 1, as any bad setting).
            if (problems.Count > 0 && strategyKnown)
            {
                problems.AddRange(SettingsProblems());
            }
            return problems.Count == 0 ? ValidationResult.Success() : ValidationResult.Error(CliErrors.List(problems));
        }

        /// <summary>The problems of the restore settings the options make (with a known strategy): the strategy's needs, the degradation spec, <see cref="RestoreOptions.Validate"/>.</summary>
        internal List<string> SettingsProblems()
        {
            var problems = new List<string>();
            if (StrategyKind() != GuidanceStrategy.InnOnly && Model is null && !StandIn)
            {
                problems.Add($"--strategy {Strategy} needs a Stable Diffusion export: pass --model <folder>, or --stand-in for a plumbing run.");
            }
            Degradations.IDegradationModel? known = null;
            try
            {
                known = Degradation is null ? null : InnCommandSupport.ParseDegradation(Degradation);
            }
            catch (CliUserException ex) // a degradation spec that does not parse
            {
                problems.Add(ex.Message);
            }
            try
            {
                (ToRestoreOptions(parseDegradation: false) with { KnownDegradation = known }).Validate();
            }
            catch (InvalidRestoreOptionsException ex)
            {
                problems.AddRange(ex.Problems.Select(CliErrors.ForCli));
            }
            return problems;
        }

        /// <summary>The strategy asked for, or the default: pixel with a model, INN-only without.</summary>
        internal GuidanceStrategy StrategyKind() => Strategy is null
            ? (Model is not null || StandIn ? GuidanceStrategy.PixelInn : GuidanceStrategy.InnOnly)
            : RestoreCommand.ParseStrategy(Strategy)!.Value;

        /// <summary>The restore settings of the command line (without the estimator, which is loaded at the start).</summary>
        internal RestoreOptions ToRestoreOptions(bool parseDegradation = true) => RestoreOptions.Default with
        {
            Strategy = StrategyKind(),
            ScaleFactor = Scale,
            Steps = Steps,
            Strength = Strength,
            Seed = Seed,
            LatentTileSize = Tile,
            LatentTileOverlap = Tile / 2 / 8 * 8,
            Blind = Blind ? true : NoBlind ? false : null, // unset: the pipeline decides (on for an unknown degradation)
            KnownDegradation = Degradation is null || !parseDegradation ? null : InnCommandSupport.ParseDegradation(Degradation),
        };
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var console = CliApp.Console;
        // Every problem of the settings at once, before anything is read or written.
        if (settings.SettingsProblems() is { Count: > 0 } problems)
        {
            throw new CliUserException(CliErrors.List(problems));
        }
        var strategy = settings.StrategyKind();
        var options = settings.ToRestoreOptions();
        // Loaded before the journal opens: the options (and so the journal's settings) name the exact network.
        using var estimator = EstimatorSupport.Load(settings.Estimator, options.ScaleFactor, settings.ModelOptions());
        options = options with { InitialEstimator = estimator };
        string inn = settings.Inn ?? PipelineFactory.DefaultInn;
        var images = Inputs(settings);
        var batchOptions = new RestoreBatchOptions
        {
            // What the outputs come from besides RestoreOptions (docs/reliability.md): models, engine and provider.
            Models = string.Create(CultureInfo.InvariantCulture,
                $"model={(settings.StandIn ? "stand-in:" + settings.StandInCost : settings.Model is null ? "none" : InnCommandSupport.FolderIdentity(settings.Model))}; inn={InnCommandSupport.InnIdentity(inn)}; latent-inn={(settings.LatentInn is null ? "none" : InnCommandSupport.InnIdentity(settings.LatentInn))}; inn-engine={settings.InnEngineKind()}; provider={settings.Provider}{(settings.AllowCpuFallback ? "+cpu-fallback" : "")}"),
            Overwrite = settings.Force,
            RetryFailed = !settings.NoRetry,
        };
        // The journal is opened (and settings checked) before the models load: a wrong resume fails at once.
        using var batch = settings.Resume
            ? RestoreBatch.Resume(images, settings.Output, options, batchOptions)
            : RestoreBatch.Create(images, settings.Output, options, batchOptions);
        foreach (var note in batch.Notes)
        {
            console.MarkupLineInterpolated($"[yellow]{note}[/]");
        }
        using var standIn = settings.StandIn ? PipelineFactory.CreateStandIn(settings.StandInCost) : null;
        if (settings.StandIn)
        {
            console.MarkupLine("[black on yellow] STAND-IN MODELS [/] [yellow]random weights: the outputs are not real restorations.[/]");
        }
        using var restorer = BatchRestorerFactory.Create(settings.Concurrency, inn, settings.Model ?? standIn?.Path, settings.LatentInn,
            strategy == GuidanceStrategy.LatentInn && settings.StandIn, settings.ModelOptions(), settings.InnEngineKind());

        BatchReport report;
        try
        {
            report = Run(console, batch, restorer, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            int done = batch.Images().Count(i => i.State == BatchImageState.Done);
            console.MarkupLineInterpolated($"[yellow]Stopped[/] with {done} of {images.Count} images done; run the same command with [bold]--resume[/] to continue.");
            throw;
        }
        string reportPath = Path.Combine(batch.OutputFolder, ReportFileName);
        EvaluationReport.WriteAtomically(reportPath, report.ToMarkdown());
        PrintSummary(console, report, reportPath);
        return report.Failed == 0 ? 0 : 1;
    }

    private static IReadOnlyList<BatchImage> Inputs(Settings settings)
    {
        if (Directory.Exists(settings.Input))
        {
            return BatchInputs.FromFolder(settings.Input, settings.GroundTruth);
        }
        if (!File.Exists(settings.Input))
        {
            throw new CliUserException($"The input '{settings.Input}' is neither a folder nor a manifest file.");
        }
        if (Path.GetExtension(settings.Input).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg" or ".webp" or ".bmp")
        {
            throw new CliUserException($"'{settings.Input}' is an image: batch takes a folder or a manifest (one path per line). For one image use 'restore'.");
        }
        if (settings.GroundTruth is not null)
        {
            throw new CliUserException("--ground-truth goes with a folder input; a manifest gives each image's ground truth as 'input,ground-truth'.");
        }
        return BatchInputs.FromManifest(settings.Input);
    }

    private static BatchReport Run(IAnsiConsole console, RestoreBatch batch, IBatchRestorer restorer, CancellationToken cancellationToken)
    {
        if (!CliProgress.Live(console))
        {
            // Redirected: plain lines as images start and finish (CliProgress).
            var lines = new ProgressLines(console);
            var plain = batch.RunAsync(restorer, lines, cancellationToken).GetAwaiter().GetResult();
            lines.Complete(plain);
            return plain;
        }
        BatchReport? report = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var display = new ProgressDisplay(context);
                report = batch.RunAsync(restorer, display, cancellationToken).GetAwaiter().GetResult();
                display.Complete();
            });
        return report!;
    }

    private static void PrintSummary(IAnsiConsole console, BatchReport report, string reportPath)
    {
        var table = new Table().Title("batch").AddColumns("images", "done", "failed", "restored now", "done before", "wall", "images/min", "concurrency");
        table.AddRow(report.Images.Count.ToString(CultureInfo.InvariantCulture), report.Done.ToString(CultureInfo.InvariantCulture),
            report.Failed.ToString(CultureInfo.InvariantCulture), report.RestoredThisRun.ToString(CultureInfo.InvariantCulture),
            report.DoneBefore.ToString(CultureInfo.InvariantCulture), $"{report.Elapsed.TotalSeconds:F1} s", $"{report.ImagesPerMinute:F2}",
            report.Concurrency.ToString(CultureInfo.InvariantCulture));
        console.Write(table);
        foreach (var failed in report.Images.Where(i => i.State == BatchImageState.Failed))
        {
            console.MarkupLineInterpolated($"[red]failed[/] {Path.GetFileName(failed.InputPath)}: {failed.Error}");
        }
        if (report.Failed > 0)
        {
            console.MarkupLine("Fix the inputs above, then run the same command with [bold]--resume[/] to try them again.");
        }
        console.MarkupLineInterpolated($"Report: {reportPath}");
    }

    /// <summary>An overall bar (done/total and ETA) and one bar per image being restored (its own ETA). Thread-safe: Spectre's tasks lock.</summary>
    // Plain progress lines for a redirected console: "name: started" once per image, and "k/N done, ETA …" each time
    // an image finishes or fails.
    private sealed class ProgressLines(IAnsiConsole console) : IProgress<BatchProgress>
    {
        private readonly HashSet<string> started = new(StringComparer.Ordinal);
        private int finished = -1;

        public void Report(BatchProgress value)
        {
            lock (started)
            {
                foreach (var image in value.Running.Where(i => started.Add(i.InputPath)))
                {
                    CliProgress.Line(console, $"{Path.GetFileName(image.InputPath)}: started");
                }
                if (value.Done + value.Failed != finished)
                {
                    finished = value.Done + value.Failed;
                    CliProgress.Line(console, Overall(value.Done, value.Failed, value.Total) + $", ETA {ProgressDisplay.Eta(value.Remaining)}");
                }
            }
        }

        public void Complete(BatchReport report)
        {
            lock (started)
            {
                if (report.Done + report.Failed != finished)
                {
                    CliProgress.Line(console, Overall(report.Done, report.Failed, report.Images.Count));
                }
            }
        }

        private static string Overall(int done, int failed, int total) => $"{done}/{total} done" + (failed > 0 ? $", {failed} failed" : "");
    }

    private sealed class ProgressDisplay(ProgressContext context) : IProgress<BatchProgress>
    {
        private readonly ProgressTask overall = context.AddTask("batch", maxValue: 1);
        private readonly Dictionary<string, ProgressTask> images = new(StringComparer.Ordinal);

        public void Report(BatchProgress value)
        {
            lock (images)
            {
                overall.MaxValue = Math.Max(1, value.Total);
                overall.Value = value.Done + value.Failed;
                overall.Description = $"{value.Done}/{value.Total} done" + (value.Failed > 0 ? $", {value.Failed} failed" : "") + $", ETA {Eta(value.Remaining)}";
                foreach (var image in value.Running)
                {
                    if (!images.TryGetValue(image.InputPath, out var task))
                    {
                        task = images[image.InputPath] = context.AddTask(Markup.Escape(Path.GetFileName(image.InputPath)), maxValue: 1);
                    }
                    task.Value = image.Fraction;
                    task.Description = $"{Markup.Escape(Path.GetFileName(image.InputPath))} ETA {Eta(image.Remaining)}";
                }
                foreach (var (path, task) in images.Where(p => value.Running.All(r => r.InputPath != p.Key)).ToList())
                {
                    task.Value = 1;
                    task.StopTask();
                    images.Remove(path);
                }
            }
        }

        public void Complete() => overall.Value = overall.MaxValue;

        public static string Eta(TimeSpan? remaining) => remaining is { } r
            ? (r.TotalHours >= 1 ? $"{(int)r.TotalHours}h{r.Minutes:D2}m" : r.TotalMinutes >= 1 ? $"{(int)r.TotalMinutes}m{r.Seconds:D2}s" : $"{r.Seconds}s")
            : "…";
    }
}
