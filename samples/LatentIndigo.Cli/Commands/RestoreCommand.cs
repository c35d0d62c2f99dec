using System.ComponentModel;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo restore</c>: restores one image or a folder. With <c>--model</c> it runs LatentINDIGO on a Stable
/// Diffusion ONNX export; without one it runs INN-only restoration (no generative prior) and says how to get an export;
/// <c>--stand-in</c> runs the whole pipeline on generated stand-in models with random weights, and says so.
/// </summary>
public sealed class RestoreCommand : Command<RestoreCommand.Settings>
{
    /// <summary>Options of <c>restore</c>.</summary>
    public sealed class Settings : PipelineSettings
    {
        /// <summary>Input image or folder.</summary>
        [CommandArgument(0, "<input>")]
        [Description("Low-quality input image (PNG, JPEG, WebP, BMP) or a folder of them.")]
        public string Input { get; init; } = "";

        /// <summary>Output image or folder.</summary>
        [CommandOption("-o|--output <PATH>")]
        [Description("Output image (format from the extension) or, for a folder input, an output folder (PNG files).")]
        public string Output { get; init; } = "";

        /// <summary>Stable Diffusion export folder.</summary>
        [CommandOption("--model <FOLDER>")]
        [Description("Stable Diffusion 1.x/2.x ONNX export folder (diffusers or optimum layout), or a diffusers pipeline folder or single-file checkpoint (.safetensors, .ckpt), converted once into the import cache. Without it: INN-only.")]
        public string? Model { get; init; }

        /// <summary>Use stand-in models.</summary>
        [CommandOption("--stand-in")]
        [Description("Run the full pipeline on generated stand-in models with RANDOM weights (a plumbing demo, not a restoration).")]
        public bool StandIn { get; init; }

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
        [Description("The known degradation of the input (e.g. bicubic:x4): picks the matching bundled INN and reports how well the output re-degrades to the input.")]
        public string? Degradation { get; init; }

        /// <summary>Blind mode.</summary>
        [CommandOption("--blind")]
        [Description("Refine the INN on the input while sampling (weights reset per image). On by default without --degradation; this flag is kept for scripts.")]
        public bool Blind { get; init; }

        /// <summary>No blind refinement.</summary>
        [CommandOption("--no-blind")]
        [Description("Do not refine the INN on the input (faster; the default refines whenever --degradation is not given).")]
        public bool NoBlind { get; init; }

        /// <summary>Pixel INN.</summary>
        [CommandOption("--inn <INN>")]
        [Description("Pixel INN: bundled name (bicubic-x4, realworld-x4) or a weights file. Default: bicubic-x4, the library's default, for every input.")]
        public string? Inn { get; init; }

        /// <summary>Latent INN.</summary>
        [CommandOption("--latent-inn <FILE>")]
        [Description("Latent INN trained for the export's VAE (train-inn --latent). Needed for --strategy latent.")]
        public string? LatentInn { get; init; }

        /// <summary>Steps.</summary>
        [CommandOption("--steps <N>")]
        [Description("DDIM steps of the full schedule (default 50; with the default strength about 28 run).")]
        [DefaultValue(50)]
        public int Steps { get; init; } = 50;

        /// <summary>Sampler name.</summary>
        [CommandOption("--sampler <NAME>")]
        [Description("Sampler: ddim (default), ddpm or euler-a.")]
        public string? Sampler { get; init; }

        /// <summary>Strength.</summary>
        [CommandOption("--strength <S>")]
        [Description("Noise level of the start, 0-1 (default 0.57).")]
        [DefaultValue(0.57)]
        public double Strength { get; init; } = 0.57;

        /// <summary>Seed.</summary>
        [CommandOption("--seed <N>")]
        [Description("Random seed (default 12345): same seed, same output.")]
        [DefaultValue(12345L)]
        public long Seed { get; init; } = 12345;

        /// <summary>Latent tile size.</summary>
        [CommandOption("--tile <N>")]
        [Description("Latent tile size in latent pixels, multiple of 8 (default: the export's, from its static size or unet/config.json sample_size; 64 = 512 image pixels otherwise).")]
        public int? Tile { get; init; }

        /// <summary>Prompt.</summary>
        [CommandOption("--prompt <TEXT>")]
        [Description("Optional text prompt (default empty).")]
        public string Prompt { get; init; } = "";

        /// <summary>Side-by-side comparison.</summary>
        [CommandOption("--compare <FILE>")]
        [Description("Also write a side-by-side PNG: the input (nearest-neighbour upscaled) next to the result. Single input only.")]
        public string? Compare { get; init; }

        /// <summary>Machine-readable report.</summary>
        [CommandOption("--report <FILE>")]
        [Description("Also write a JSON report: per image the sizes, strategy, device, per-stage times and metrics (full precision, unlike the table).")]
        public string? Report { get; init; }

        /// <summary>Tiles per batch.</summary>
        [CommandOption("--tile-batch <N>")]
        [Description("Latent tiles processed together (1-64). Default: 8 for latent guidance on a GPU (hides the INN step's launch overhead), else 1.")]
        public int? TileBatch { get; init; }

        /// <summary>Compute of the stand-in models.</summary>
        [CommandOption("--stand-in-cost <COST>")]
        [Description("With --stand-in: none (default, instant), cpu (≈5 GFLOP UNet steps) or sd (≈0.8 TFLOP steps like SD's UNet; for GPUs) — for timing runs.")]
        [DefaultValue("none")]
        public string StandInCost { get; init; } = "none";

        /// <summary>Output size limit in megapixels.</summary>
        [CommandOption("--max-output-mp <MP>")]
        [Description("Largest output accepted, in megapixels (default 16; docs/usage.md gives the memory per size). Checked from the image headers before any work.")]
        public double? MaxOutputMegapixels { get; init; }

        /// <summary>Overwrite.</summary>
        [CommandOption("--force")]
        [Description("Replace existing output files (inputs are never overwritten).")]
        public bool Force { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("-o|--output is required.");
            }
            if (Model is not null && StandIn)
            {
                return ValidationResult.Error("Use either --model or --stand-in, not both.");
            }
            if (Degradation is not null && Blind)
            {
                return ValidationResult.Error("Use either --degradation (known) or --blind (unknown), not both.");
            }
            if (Blind && NoBlind)
            {
                return ValidationResult.Error("Use either --blind or --no-blind, not both.");
            }
            if (StandInCost is not ("none" or "cpu" or "sd"))
            {
                return ValidationResult.Error($"--stand-in-cost must be none, cpu or sd; got '{StandInCost}'.");
            }
            if (StandInCost != "none" && !StandIn)
            {
                return ValidationResult.Error("--stand-in-cost only applies with --stand-in.");
            }
            if (MaxOutputMegapixels is { } mp && !(mp > 0 && mp <= 1e6))
            {
                return ValidationResult.Error($"--max-output-mp must be a positive number of megapixels; got {mp}.");
            }
            if (Sampler is not null)
            {
                try
                {
                    SamplerNames.Parse(Sampler);
                }
                catch (ArgumentException e)
                {
                    return ValidationResult.Error($"--sampler: {e.Message.Split(" (Parameter", 2)[0]}");
                }
            }
            if (Strategy is not null && ParseStrategy(Strategy) is null)
            {
                return ValidationResult.Error($"--strategy must be pixel, latent, none or inn-only; got '{Strategy}'.");
            }
            return base.Validate();
        }
    }

    /// <summary>A strategy name (the library's vocabulary, <see cref="GuidanceStrategyNames"/>), or null when unknown.</summary>
    internal static GuidanceStrategy? ParseStrategy(string name)
    {
        try
        {
            return GuidanceStrategyNames.Parse(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var console = CliApp.Console;
        bool diffusion = settings.Model is not null || settings.StandIn;
        var strategy = settings.Strategy is null
            ? (diffusion ? GuidanceStrategy.PixelInn : GuidanceStrategy.InnOnly)
            : ParseStrategy(settings.Strategy)!.Value;
        if (settings.Provider == "cuda" && !diffusion)
        {
            throw new CliUserException("--provider cuda runs the diffusion models on the GPU: pass --model <folder> (or --stand-in). INN-only runs on the CPU.");
        }
        if (strategy != GuidanceStrategy.InnOnly && !diffusion)
        {
            throw new CliUserException(
                $"--strategy {settings.Strategy} needs a Stable Diffusion export: pass --model <folder> (see docs/usage.md), or --stand-in for a plumbing demo.");
        }
        var options = RestoreOptions.Default with
        {
            Strategy = strategy,
            Sampler = settings.Sampler is null ? SamplerKind.Ddim : SamplerNames.Parse(settings.Sampler),
            ScaleFactor = settings.Scale,
            Steps = settings.Steps,
            Strength = settings.Strength,
            Seed = settings.Seed,
            LatentTileSize = settings.Tile,
            LatentTileOverlap = settings.Tile / 2 / 8 * 8,
            TileBatchSize = settings.TileBatch,
            Prompt = settings.Prompt,
            Blind = settings.Blind ? true : settings.NoBlind ? false : null,
            KnownDegradation = settings.Degradation is null ? null : InnCommandSupport.ParseDegradation(settings.Degradation),
            MaxOutputPixels = settings.MaxOutputMegapixels is { } mp ? (long)(mp * 1_000_000) : RestoreOptions.Default.MaxOutputPixels,
        };
        try
        {
            options.Validate();
        }
        catch (InvalidRestoreOptionsException ex)
        {
            throw new CliUserException(CliErrors.ForCli(ex.Message));
        }
        // Everything that can be checked without running is checked before any work: paths, collisions, sizes.
        var jobs = RestorePlan.Create(settings.Input, settings.Output, settings.Compare, settings.Force,
            input => RestorationPipeline.CheckInputFile(input, options));
        if (settings.Report is not null)
        {
            RestoreReport.Check(settings.Report, jobs, settings.Force);
        }

        // Stand-in UNet = the exact denoiser for Gaussian data, so sampling behaves sensibly (still random "weights").
        using var standIn = settings.StandIn ? PipelineFactory.CreateStandIn(settings.StandInCost) : null;
        using var pipeline = PipelineFactory.Create(settings.Inn ?? PipelineFactory.DefaultInn,
            settings.Model ?? standIn?.Path, settings.LatentInn, strategy == GuidanceStrategy.LatentInn && settings.StandIn, settings.ModelOptions(), settings.InnEngineKind());
        using var estimator = EstimatorSupport.Load(settings.Estimator, options.ScaleFactor, settings.ModelOptions());
        options = options with { InitialEstimator = estimator };
        PrintBanner(console, settings, pipeline, strategy, Markup.Escape(estimator?.Name ?? EstimatorSupport.Bicubic));

        var results = new List<(string Input, string Output, RestoreResult Result)>();
        try
        {
            if (CliProgress.Live(console))
            {
                console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                    .Start(progressContext =>
                    {
                        foreach (var (input, output) in jobs)
                        {
                            string name = Markup.Escape(Path.GetFileName(input));
                            var task = progressContext.AddTask(name, maxValue: 1);
                            var progress = new ProgressBridge(task, name);
                            var result = pipeline.RestoreFile(input, output, options, progress,
                                new ImageSaveOptions { Overwrite = settings.Force }, cancellationToken);
                            task.Value = task.MaxValue;
                            results.Add((input, output, result));
                        }
                    });
            }
            else
            {
                // Redirected: one plain line per stage and sampling step (CliProgress).
                foreach (var (input, output) in jobs)
                {
                    var progress = new ProgressLines(console, Path.GetFileName(input));
                    var result = pipeline.RestoreFile(input, output, options, progress,
                        new ImageSaveOptions { Overwrite = settings.Force }, cancellationToken);
                    results.Add((input, output, result));
                }
            }
            if (settings.Compare is not null)
            {
                WriteComparison(jobs[0].Input, results[0].Result, settings.Compare, settings.Force);
            }
            if (settings.Report is not null)
            {
                RestoreReport.Write(settings.Report, results, pipeline, settings.Scale);
            }
            PrintSummary(console, results, pipeline);
        }
        finally
        {
            foreach (var (_, _, result) in results)
            {
                result.Dispose();
            }
        }
        return 0;
    }

    private static void PrintBanner(IAnsiConsole console, Settings settings, RestorationPipeline pipeline, GuidanceStrategy strategy, string estimator)
    {
        if (settings.StandIn)
        {
            console.MarkupLine("[black on yellow] STAND-IN MODELS [/] [yellow]The diffusion models are generated stand-ins with random weights: " +
                "this run exercises the full pipeline, but the output is not a real restoration.[/]");
        }
        if (strategy == GuidanceStrategy.InnOnly)
        {
            console.MarkupLine(settings.Degradation is null
                ? $"[yellow]No generative prior was used[/]: INN-only restoration with an unknown degradation returns the {estimator} estimate " +
                  "(no forward model to trust). Give [bold]--degradation <spec>[/] when you know it (e.g. bicubic:x4) to back-project through the INN."
                : $"[yellow]No generative prior was used[/]: INN-only restoration (the {estimator} estimate back-projected onto the input " +
                  "through the INN's model of the degradation).");
            if (pipeline.Models is null)
            {
                console.MarkupLine("For diffusion-based restoration pass [bold]--model <folder>[/] with a Stable Diffusion 2.1-base (or 1.5) ONNX " +
                    "export; docs/usage.md explains how to make one with Hugging Face Optimum on a machine that can download it.");
            }
        }
    }

    private static void WriteComparison(string inputPath, RestoreResult result, string comparePath, bool force)
    {
        using var scope = torch.NewDisposeScope();
        var input = ImageIO.Load(inputPath);
        long height = result.Image.shape[2], width = result.Image.shape[3];
        var upscaled = torch.nn.functional.interpolate(input, size: new[] { height, width }, mode: torch.InterpolationMode.Nearest);
        var gap = torch.ones(1, 3, height, 8);
        var sideBySide = torch.cat(new[] { upscaled, gap, result.Image }, 3);
        ImageIO.Save(sideBySide, comparePath, new ImageSaveOptions { SourcePath = inputPath, Overwrite = force });
    }

    private static void PrintSummary(IAnsiConsole console, List<(string Input, string Output, RestoreResult Result)> results, RestorationPipeline pipeline)
    {
        static string Seconds(TimeSpan t) => $"{t.TotalSeconds:F2} s";
        // "consistency": the output re-degraded (by the INN's coarse band) against the input, not image quality.
        var images = new CliTable("restored", "image", "size", "strategy", "total", "UNet", "VAE", "INN", "consistency", "measured PSNR");
        foreach (var (input, output, r) in results)
        {
            images.AddRow(
                Path.GetFileName(output),
                $"{r.Image.shape[3]}×{r.Image.shape[2]}",
                r.Strategy.ToString(),
                Seconds(r.Total),
                r.Strategy == GuidanceStrategy.InnOnly ? "—" : Seconds(r.UnetTime), // no diffusion model ran
                r.Strategy == GuidanceStrategy.InnOnly ? "—" : Seconds(r.VaeTime),
                Seconds(r.InnTime),
                r.CoarsePsnr is double c ? $"{c:F1} dB" : "-",
                r.MeasurementPsnr is double m ? $"{m:F1} dB" : "-");
        }
        images.Write(console);

        var stages = new CliTable("time per stage (all images)", "stage", "time");
        // In the order a restore runs them (BackProjecting was added last to the enum, but runs before Finishing).
        RestoreStage[] order = [RestoreStage.Preparing, RestoreStage.Encoding, RestoreStage.Sampling, RestoreStage.Decoding,
            RestoreStage.BackProjecting, RestoreStage.Finishing];
        foreach (var stage in order)
        {
            var time = results.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Result.StageTimes.GetValueOrDefault(stage));
            if (time > TimeSpan.Zero)
            {
                stages.AddRow(stage.ToString(), Seconds(time));
            }
        }
        stages.Write(console);
        string provider = pipeline.Models is null
            ? $"none (INN only, on the CPU; INN passes in {((pipeline.PixelInn as LatentIndigo.Invertible.LiftingInn)?.Engine == LatentIndigo.Invertible.InnEngine.TorchSharp ? "TorchSharp" : "ONNX Runtime")})"
            : $"{pipeline.Models.ExecutionProvider} (ONNX Runtime)" + (pipeline.Models.IsStandIn ? ", STAND-IN models with random weights" : "");
        var first = results[0].Result;
        console.MarkupLineInterpolated($"Diffusion provider: {provider}. Steps per tile: {first.StepsRun}, tiles: {Math.Max(1, first.Tiles)}. Consistency: PSNR of the output re-degraded by the INN against the input (how well it explains the input, not its quality; quality needs ground truth: eval).");
    }

    /// <summary>Moves a Spectre progress task along with the pipeline's events.</summary>
    // Plain progress lines for a redirected console: "name: stage" when the stage changes, "name: step k/N" per sampling
    // step (and tile), "name: done" at the end.
    private sealed class ProgressLines(IAnsiConsole console, string name) : IProgress<RestoreProgress>
    {
        private RestoreStage? stage;

        public void Report(RestoreProgress value)
        {
            if (value.Stage == RestoreStage.Sampling && value.Step > 0)
            {
                CliProgress.Line(console, value.TotalTiles > 1
                    ? $"{name}: step {value.Step}/{value.TotalSteps} tile {value.Tile + 1}/{value.TotalTiles}"
                    : $"{name}: step {value.Step}/{value.TotalSteps}");
            }
            else if (value.Stage != stage)
            {
                CliProgress.Line(console, value.Stage == RestoreStage.Completed
                    ? $"{name}: done ({value.Elapsed.TotalSeconds:F1} s)"
                    : $"{name}: {value.Stage.ToString().ToLowerInvariant()}");
            }
            stage = value.Stage;
        }
    }

    private sealed class ProgressBridge(ProgressTask task, string name) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value)
        {
            if (value.Stage == RestoreStage.Sampling && value.TotalSteps > 0)
            {
                double done = ((value.Step - 1) * (double)value.TotalTiles + value.Tile + 1) / (value.TotalSteps * (double)value.TotalTiles);
                task.Value = Math.Min(0.95, 0.05 + 0.9 * done);
                task.Description = value.TotalTiles > 1
                    ? $"{name} step {value.Step}/{value.TotalSteps} tile {value.Tile + 1}/{value.TotalTiles}"
                    : $"{name} step {value.Step}/{value.TotalSteps}";
            }
            else if (value.Stage == RestoreStage.BackProjecting && value.TotalSteps > 0)
            {
                // INN-only: the INN passes of the back-projection (at most TotalSteps; it may finish early), each over windows.
                double done = ((value.Step - 1) * (double)value.TotalTiles + value.Tile + 1) / (value.TotalSteps * (double)value.TotalTiles);
                task.Value = Math.Clamp(0.05 + 0.9 * done, 0.05, 0.95);
                task.Description = value.TotalTiles > 1
                    ? $"{name} back-projecting: pass {value.Step}/{value.TotalSteps} window {value.Tile + 1}/{value.TotalTiles}"
                    : $"{name} back-projecting: pass {value.Step}/{value.TotalSteps}";
            }
            else if (value.Stage == RestoreStage.Completed)
            {
                task.Value = 1;
            }
        }
    }
}
