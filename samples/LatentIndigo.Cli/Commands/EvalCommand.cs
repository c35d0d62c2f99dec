using System.ComponentModel;
using System.Diagnostics;
using LatentIndigo.Degradations;
using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo eval</c>: restores ground-truth images degraded with a spec (or given LQ/HR pairs) with each strategy
/// asked for and scores them: PSNR-Y and SSIM-Y (BasicSR convention), LR consistency, time and peak memory per image.
/// Writes results.csv, results.md, images/&lt;strategy&gt;/&lt;name&gt;.png, grids/&lt;name&gt;.png and chart.png under --out;
/// resumes per image.
/// </summary>
public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    private const string SettingsFile = "eval-settings.txt";

    /// <summary>Options of <c>eval</c>.</summary>
    public sealed class Settings : PipelineSettings
    {
        /// <summary>Ground-truth folder.</summary>
        [CommandOption("--hr <FOLDER>")]
        [Description("Folder of ground-truth (high-quality) images.")]
        public string? Hr { get; init; }

        /// <summary>Degradation spec.</summary>
        [CommandOption("--degradation <SPEC>")]
        [Description("Makes the LQ inputs from the ground truth (e.g. bicubic:x4, realesrgan:x4); image i uses seed --seed + i. With --lq: only for the LR consistency.")]
        public string? Degradation { get; init; }

        /// <summary>LQ folder.</summary>
        [CommandOption("--lq <FOLDER>")]
        [Description("Folder of given LQ inputs named like their ground truth (instead of making them with --degradation).")]
        public string? Lq { get; init; }

        /// <summary>Strategies.</summary>
        [CommandOption("--strategies <LIST>")]
        [Description("Comma-separated: bicubic, inn-only, pixel, latent, none; add +blind to refine the INN on the input (e.g. pixel+blind); a learned estimator alone (esrgan-slim-x4, esrgan-slim-x2 or a file.onnx) or back-projected through the INN (esrgan-slim-x4+inn, file.onnx+inn). Default bicubic,inn-only.")]
        [DefaultValue("bicubic,inn-only")]
        public string Strategies { get; init; } = "bicubic,inn-only";

        /// <summary>Output folder (-o/--output like the other commands).</summary>
        [CommandOption("-o|--output <FOLDER>")]
        [Description("Output folder: results.csv, results.md, chart.png, images/<strategy>/<name>.png, grids/<name>.png.")]
        public string? Output { get; init; }

        /// <summary>The older spelling of <see cref="Output"/>, still accepted.</summary>
        [CommandOption("--out <FOLDER>", IsHidden = true)]
        public string? OutAlias { get; init; }

        /// <summary>The output folder, however it was given.</summary>
        public string? Out => Output ?? OutAlias;

        /// <summary>Stable Diffusion export folder.</summary>
        [CommandOption("--model <FOLDER>")]
        [Description("Stable Diffusion ONNX export folder, for pixel, latent and none.")]
        public string? Model { get; init; }

        /// <summary>Stand-in models.</summary>
        [CommandOption("--stand-in")]
        [Description("Generated stand-in models with RANDOM weights instead of --model (plumbing, not a generative prior).")]
        public bool StandIn { get; init; }

        /// <summary>Seed.</summary>
        [CommandOption("--seed <N>")]
        [Description("Seed of the degradation (image i uses N + i) and of sampling (default 12345).")]
        [DefaultValue(12345L)]
        public long Seed { get; init; } = 12345;

        /// <summary>Scale with --lq and no --degradation.</summary>
        [CommandOption("--scale <N>")]
        [Description("Scale factor with --lq and no --degradation (default 4); otherwise the spec's.")]
        public int? Scale { get; init; }

        /// <summary>Pixel INN.</summary>
        [CommandOption("--inn <INN>")]
        [Description("Pixel INN: bundled name or weights file (default as restore: bicubic-x4).")]
        public string? Inn { get; init; }

        /// <summary>Latent INN.</summary>
        [CommandOption("--latent-inn <FILE>")]
        [Description("Latent INN for the latent strategy (with --stand-in an untrained one is used).")]
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

        /// <summary>Perceptual metric.</summary>
        [CommandOption("--perceptual <ONNX>")]
        [Description("An ONNX perceptual metric you bring (e.g. LPIPS): two 1×3×H×W inputs scaled to -1..1 (output, reference), mean of the first output. See docs/usage.md.")]
        public string? Perceptual { get; init; }

        /// <summary>Recompute everything.</summary>
        [CommandOption("--force")]
        [Description("Recompute every image and replace the results in the output folder (default: resume, skipping finished images).")]
        public bool Force { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Hr))
            {
                return ValidationResult.Error("--hr <folder> is required: the folder of ground-truth images.");
            }
            if (string.IsNullOrWhiteSpace(Out))
            {
                return ValidationResult.Error("-o/--output <folder> is required.");
            }
            if (Degradation is null && Lq is null)
            {
                return ValidationResult.Error("Give --degradation <spec> (to make the LQ inputs) or --lq <folder> (given LQ inputs).");
            }
            if (Model is not null && StandIn)
            {
                return ValidationResult.Error("Use either --model or --stand-in, not both.");
            }
            if (Scale is { } s && (Lq is null || Degradation is not null))
            {
                return ValidationResult.Error("--scale only applies with --lq and no --degradation (otherwise the spec gives the scale).");
            }
            if (Scale is < 1 or > 16)
            {
                return ValidationResult.Error($"--scale must be between 1 and 16; got {Scale}.");
            }
            if (EvalStrategy.ParseList(Strategies, out var error) is null)
            {
                return ValidationResult.Error(error!);
            }
            return base.Validate();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var console = CliApp.Console;
        var strategies = EvalStrategy.ParseList(settings.Strategies, out _)!;
        var degradation = settings.Degradation is null ? null : InnCommandSupport.ParseDegradation(settings.Degradation);
        int scale = degradation?.ScaleFactor ?? settings.Scale ?? 4;
        bool diffusion = settings.Model is not null || settings.StandIn;
        if (strategies.FirstOrDefault(s => s.NeedsDiffusion) is { } needs && !diffusion)
        {
            throw new CliUserException($"--strategies {needs.Name} needs a Stable Diffusion export: pass --model <folder>, or --stand-in for a plumbing demo.");
        }
        string hr = settings.Hr!, output = settings.Out!;
        foreach (var input in new[] { hr, settings.Lq }.OfType<string>())
        {
            if (CliPaths.SameFile(input, output))
            {
                throw new CliUserException($"--output '{output}' is an input folder; choose another output folder (inputs are never overwritten).");
            }
        }
        if (File.Exists(output))
        {
            throw new CliUserException($"--output '{output}' is a file; it names the output folder.");
        }
        var pairs = EvaluationPairs.FromFolders(hr, settings.Lq, scale);
        using var perceptual = settings.Perceptual is null ? null : new OnnxPerceptualMetric(settings.Perceptual);
        var options = RestoreOptions.Default with
        {
            ScaleFactor = scale,
            Steps = settings.Steps,
            Strength = settings.Strength,
            Seed = settings.Seed,
            KnownDegradation = degradation,
            MaxOutputPixels = long.MaxValue / 4,
        };
        try
        {
            options.Validate();
        }
        catch (InvalidRestoreOptionsException ex)
        {
            throw new CliUserException(CliErrors.ForCli(ex.Message));
        }

        string settingsText = Fingerprint(settings, degradation, scale, perceptual);
        var records = Resume(output, settingsText, settings.Force);

        // One loaded network per estimator named (strategies and --estimator), on the models' provider.
        using var estimators = new EstimatorSet();
        foreach (var name in strategies.Select(s => s.Estimator).Append(EstimatorSupport.IsBicubic(settings.Estimator) ? null : settings.Estimator).OfType<string>().Distinct())
        {
            estimators.Add(name, EstimatorSupport.Load(name, scale, settings.ModelOptions())!);
        }
        bool needsPipeline = strategies.Any(s => s.Guidance is not null);
        using var standIn = settings.StandIn && strategies.Any(s => s.NeedsDiffusion) ? PipelineFactory.CreateStandIn("none") : null;
        using var pipeline = needsPipeline
            ? PipelineFactory.Create(settings.Inn ?? PipelineFactory.DefaultInn,
                settings.Model ?? standIn?.Path, settings.LatentInn, settings.StandIn, settings.ModelOptions(), settings.InnEngineKind())
            : null;
        // Only now, with every input checked and the models loaded, does anything get written.
        CliPaths.EnsureWritableFolder(output, Path.Combine(output, "results.csv"));
        EvaluationReport.WriteAtomically(Path.Combine(output, SettingsFile), settingsText);
        if (settings.StandIn)
        {
            console.MarkupLine("[black on yellow] STAND-IN MODELS [/] [yellow]pixel, latent and none run on stand-in models with random weights: not a generative prior, and not a measure of LatentINDIGO's quality.[/]");
        }

        int skipped = 0;
        int total = pairs.Count * strategies.Count;
        // describe: the image and strategy about to run (plain text); advance: items done or skipped.
        void EvaluateAll(Action<string> describe, Action<int> advance)
        {
            for (int i = 0; i < pairs.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var pair = pairs[i];
                var todo = strategies.Where(s => !Done(records, output, pair.Name, s.Name)).ToList();
                advance(strategies.Count - todo.Count);
                if (todo.Count == 0)
                {
                    skipped++;
                    continue;
                }
                records.RemoveAll(r => r.Image == pair.Name && todo.Any(s => s.Name == r.Strategy));
                EvaluateImage(pair, settings.Seed + i, todo, strategies, degradation, scale, options, pipeline, estimators, settings.Estimator, perceptual, output, records,
                    name => describe($"{pair.Name} {name}"), () => advance(1), cancellationToken);
                WriteReports(output, records, strategies, settingsText);
            }
        }
        if (CliProgress.Live(console))
        {
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .Start(progressContext =>
                {
                    var task = progressContext.AddTask("eval", maxValue: total);
                    EvaluateAll(text => task.Description = Markup.Escape(text), n => task.Increment(n));
                });
        }
        else
        {
            // Redirected: one plain line per image and strategy as it starts, and one at the end (CliProgress).
            int done = 0;
            EvaluateAll(text => CliProgress.Line(console, $"eval {done + 1}/{total}: {text}"), n => done += n);
            CliProgress.Line(console, $"eval {done}/{total} done");
        }
        WriteReports(output, records, strategies, settingsText);
        EvalChart.Save(records, strategies.Select(s => s.Name).ToList(), Path.Combine(output, "chart.png"));
        PrintSummary(console, records, strategies);
        if (skipped > 0)
        {
            console.MarkupLineInterpolated($"Resumed: {skipped} image(s) already done were skipped (--force recomputes them).");
        }
        console.MarkupLineInterpolated($"Wrote [green]{Path.Combine(output, "results.csv")}[/], results.md, chart.png, images/ and grids/.");
        return 0;
    }

    private static void EvaluateImage(EvaluationPair pair, long seed, List<EvalStrategy> todo, IReadOnlyList<EvalStrategy> all,
        IDegradationModel? degradation, int scale, RestoreOptions options, RestorationPipeline? pipeline, EstimatorSet estimators, string? defaultEstimator, IPerceptualMetric? perceptual,
        string output, List<EvaluationRecord> records, Action<string> describe, Action advance, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        var hr = ImageEvaluator.ModCrop(ImageIO.Load(pair.HighQualityPath), scale);
        var lq = pair.LowQualityPath is null
            ? ImageEvaluator.Degrade(hr, degradation!, seed)
            : ImageIO.Load(pair.LowQualityPath);
        foreach (var strategy in todo)
        {
            cancellationToken.ThrowIfCancellationRequested();
            describe(strategy.Name);
            using var memory = new PeakMemorySampler();
            var clock = Stopwatch.StartNew();
            Tensor restored;
            if (strategy.Guidance is { } guidance)
            {
                // +blind treats the degradation as unknown (refinement on, no finish); without it the library's defaults apply.
                var run = options with
                {
                    Strategy = guidance,
                    Blind = strategy.Blind ? true : null,
                    KnownDegradation = strategy.Blind ? null : options.KnownDegradation,
                    InitialEstimator = estimators.Find(strategy.Estimator ?? defaultEstimator),
                };
                using var result = pipeline!.Restore(lq, run, null, cancellationToken);
                restored = result.Image.to(DeviceType.CPU).clone();
            }
            else
            {
                restored = (estimators.Find(strategy.Estimator) ?? (IInitialEstimator)BicubicUpscaleEstimator.Instance).Estimate(lq, scale, cancellationToken);
            }
            clock.Stop();
            long peak = memory.PeakBytes;
            var quantised = ImageQuality.QuantizeTo8Bit(restored);
            var scores = ImageEvaluator.Score(quantised, hr, lq, scale, degradation, seed, perceptual);
            string file = ImagePath(output, strategy.Name, pair.Name);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            ImageIO.Save(quantised, file, new ImageSaveOptions { Overwrite = true });
            records.Add(new EvaluationRecord(pair.Name, strategy.Name, scores, clock.Elapsed, peak));
            advance();
        }
        // The grid: LQ, bicubic, each strategy, HR (from the files, so a resumed run shows every strategy), each panel
        // labelled with its name above it.
        var panels = new List<Tensor> { lq };
        var labels = new List<string> { "LQ" };
        if (!all.Any(s => s.Name == EvalStrategy.Bicubic))
        {
            panels.Add(BicubicUpscaleEstimator.Instance.Estimate(lq, scale, cancellationToken));
            labels.Add(EvalStrategy.Bicubic);
        }
        panels.AddRange(all.Select(s => ImageIO.Load(ImagePath(output, s.Name, pair.Name))));
        labels.AddRange(all.Select(s => s.Name));
        panels.Add(hr);
        labels.Add("ground truth");
        string grid = Path.Combine(output, "grids", pair.Name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(grid)!);
        var composed = EvalGridLabels.Add(ComparisonGrid.Compose(panels), labels, hr.shape[3], CliFonts.SansSerifFile());
        ImageIO.Save(composed, grid, new ImageSaveOptions { Overwrite = true });
    }

    private static string ImagePath(string output, string strategy, string name) => Path.Combine(output, "images", strategy, name + ".png");

    private static bool Done(List<EvaluationRecord> records, string output, string image, string strategy) =>
        records.Any(r => r.Image == image && r.Strategy == strategy) && File.Exists(ImagePath(output, strategy, image));

    /// <summary>The earlier results in --out, if they were made with the same settings; none with --force.</summary>
    private static List<EvaluationRecord> Resume(string output, string settingsText, bool force)
    {
        string csv = Path.Combine(output, "results.csv"), previous = Path.Combine(output, SettingsFile);
        if (force || !File.Exists(csv))
        {
            return [];
        }
        if (!File.Exists(previous) || File.ReadAllText(previous) != settingsText)
        {
            throw new CliUserException(
                $"'{csv}' holds results made with other settings (see '{previous}'). Use another output folder (-o), or --force to replace them.");
        }
        return EvaluationReport.ReadCsv(csv).ToList();
    }

    private static string Fingerprint(Settings settings, IDegradationModel? degradation, int scale, IPerceptualMetric? perceptual) =>
        string.Join('\n',
            $"hr={Path.GetFullPath(settings.Hr!)}",
            $"lq={(settings.Lq is null ? "" : Path.GetFullPath(settings.Lq))}",
            $"degradation={degradation?.Spec}",
            $"scale={scale}",
            $"seed={settings.Seed}",
            $"models={(settings.StandIn ? "stand-in" : settings.Model is null ? "" : Path.GetFullPath(settings.Model))}",
            $"inn={settings.Inn ?? PipelineFactory.DefaultInn}", // the INN the restores used, the default too
            $"estimator={settings.Estimator}",
            $"latent-inn={settings.LatentInn}",
            $"steps={settings.Steps}",
            $"strength={settings.Strength.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            $"perceptual={perceptual?.Name}",
            "") ;

    private static void WriteReports(string output, List<EvaluationRecord> records, IReadOnlyList<EvalStrategy> strategies, string settingsText)
    {
        var order = strategies.Select(s => s.Name).ToList();
        var sorted = records.OrderBy(r => r.Image, StringComparer.Ordinal).ThenBy(r => order.IndexOf(r.Strategy) is var k && k < 0 ? int.MaxValue : k).ToList();
        EvaluationReport.WriteAtomically(Path.Combine(output, "results.csv"), EvaluationReport.ToCsv(sorted));
        var notes = new List<string>
        {
            "PSNR-Y and SSIM-Y: MATLAB-compatible Y channel, border of the scale factor cropped (BasicSR convention).",
            "LR PSNR: the output re-degraded with the same spec and seed against the LQ input (RGB).",
            "Peak memory: the process working set sampled every 10 ms during the restoration (loaded models included).",
            "Grids (grids/<name>.png): LQ, bicubic, each strategy in the order above, ground truth, each named above it; below each, the framed centre zoomed ×3.",
        };
        notes.AddRange(settingsText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => $"`{l}`"));
        notes.Add("Chart: ![mean PSNR-Y and SSIM-Y per strategy](chart.png)");
        notes.Add("Grids: " + string.Join(", ", records.Select(r => r.Image).Distinct().Order(StringComparer.Ordinal).Select(n => $"[{n}](grids/{Uri.EscapeDataString(n)}.png)")));
        EvaluationReport.WriteAtomically(Path.Combine(output, "results.md"), EvaluationReport.ToMarkdown(sorted, order, "Evaluation", notes));
    }

    private static void PrintSummary(IAnsiConsole console, List<EvaluationRecord> records, IReadOnlyList<EvalStrategy> strategies)
    {
        var table = new CliTable("mean per strategy", "strategy", "images", "PSNR-Y (dB)", "SSIM-Y", "LR PSNR (dB)", "seconds");
        foreach (var strategy in strategies)
        {
            var rows = records.Where(r => r.Strategy == strategy.Name).ToList();
            if (rows.Count == 0)
            {
                continue;
            }
            var lr = rows.Where(r => r.Scores.LrPsnr is not null).Select(r => r.Scores.LrPsnr!.Value).Where(double.IsFinite).ToList();
            table.AddRow(strategy.Name, rows.Count.ToString(),
                rows.Select(r => r.Scores.PsnrY).Where(double.IsFinite).DefaultIfEmpty(double.PositiveInfinity).Average().ToString("F2"),
                rows.Average(r => r.Scores.SsimY).ToString("F4"),
                lr.Count == 0 ? "-" : lr.Average().ToString("F2"),
                rows.Average(r => r.Time.TotalSeconds).ToString("F2"));
        }
        table.Write(console);
    }
}
