using System.ComponentModel;
using System.Text.Json;
using LatentIndigo.Degradations;
using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo degrade &lt;file|folder&gt; --degradation &lt;spec&gt; --output &lt;file|folder&gt; [--seed N]</c>:
/// makes low-quality (LQ) images from clean (HQ) ones, with a JSON sidecar per image holding the exact parameters drawn.
/// </summary>
/// <remarks>
/// A file input writes the LQ image to the output file and the sidecar beside it (same name, <c>.json</c>). A folder
/// input writes <c>hq/NAME.png</c> (the input, cropped to a multiple of the scale factor), <c>lq/NAME.png</c> and
/// <c>lq/NAME.json</c> under the output folder (the pair layout <c>eval --hr OUT/hq --lq OUT/lq</c> reads). Image i (in
/// name order) uses seed N + i (N = 12345 unless given, like every command), recorded in its sidecar.
/// </remarks>
public sealed class DegradeCommand : Command<DegradeCommand.Settings>
{
    /// <summary>Options of <c>degrade</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>Input image or folder of images, positional like the other commands' inputs.</summary>
        [CommandArgument(0, "[input]")]
        [Description("Clean input image, or a folder of images (png, jpg, jpeg, webp, bmp).")]
        public string? InputArgument { get; init; }

        /// <summary>The input as an option (the older spelling, still accepted).</summary>
        [CommandOption("-i|--input <PATH>", IsHidden = true)]
        public string? InputOption { get; init; }

        /// <summary>The input, however it was given.</summary>
        public string Input => InputArgument ?? InputOption ?? "";

        /// <summary>The degradation spec.</summary>
        [CommandOption("-d|--degradation <SPEC>")]
        [Description("Degradation spec, e.g. bicubic:x4, gauss:sigma=2>bicubic:x4>noise:sigma=5>jpeg:q=40, realesrgan:x4. An unknown name lists every operator with its ranges (docs/degradations.md).")]
        public string Degradation { get; init; } = "";

        /// <summary>Output image (file input) or folder (folder input).</summary>
        [CommandOption("-o|--output <PATH>")]
        [Description("Output image for a file input (.png keeps the degradation exact). For a folder input, the folder of pairs: OUT/lq/NAME.png with NAME.json, and OUT/hq/NAME.png (the input cropped to a multiple of the scale).")]
        public string Output { get; init; } = "";

        /// <summary>Seed of the random draws (written to the sidecar); 12345 like every command's default.</summary>
        [CommandOption("--seed <N>")]
        [Description("Seed for the random draws (image i uses N+i), recorded in the sidecars. Default 12345.")]
        [DefaultValue(12345L)]
        public long Seed { get; init; } = 12345;

        /// <summary>Allow replacing existing output files.</summary>
        [CommandOption("--force")]
        [Description("Replace existing output files (inputs are never overwritten).")]
        public bool Force { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Input))
            {
                return ValidationResult.Error("an input is required: degrade <image file or folder> -d <spec> -o <output>.");
            }
            if (InputArgument is not null && InputOption is not null && InputArgument != InputOption)
            {
                return ValidationResult.Error("two inputs given (positional and --input): give one.");
            }
            if (string.IsNullOrWhiteSpace(Degradation))
            {
                return ValidationResult.Error("--degradation is required, e.g. --degradation bicubic:x4.");
            }
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("--output is required: an image file for a file input, a folder for a folder input.");
            }
            if (Seed is < 0)
            {
                return ValidationResult.Error("--seed must be zero or positive.");
            }
            return ValidationResult.Success();
        }
    }

    private sealed record Job(string Input, string Lq, string Sidecar, string? Hq);

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        IDegradationModel model;
        try
        {
            model = DegradationSpec.Parse(settings.Degradation);
        }
        catch (DegradationSpecException ex)
        {
            throw new CliUserException(ex.Message);
        }
        var jobs = PlanJobs(settings);
        var seed = settings.Seed;
        for (var i = 0; i < jobs.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Degrade(model, jobs[i], seed + i, settings.Force);
        }
        CliApp.Console.MarkupLineInterpolated($"Degraded [green]{jobs.Count}[/] image(s) with [blue]{model.Spec}[/] (seed {seed}).");
        if (jobs[0].Hq is not null)
        {
            CliApp.Console.MarkupLineInterpolated($"Pairs in {settings.Output}: lq/ (degraded, with .json sidecars) and hq/ (the clean inputs, cropped).");
        }
        return 0;
    }

    private static List<Job> PlanJobs(Settings settings)
    {
        var jobs = new List<Job>();
        if (Directory.Exists(settings.Input))
        {
            if (File.Exists(settings.Output))
            {
                throw new CliUserException($"The input is a folder, so --output must be a folder; '{settings.Output}' is a file.");
            }
            var inputs = CliPaths.ImagesIn(settings.Input);
            if (inputs.Count == 0)
            {
                throw new CliUserException($"The folder '{settings.Input}' has no images (png, jpg, jpeg, webp, bmp).");
            }
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var input in inputs)
            {
                var stem = Path.GetFileNameWithoutExtension(input);
                if (!names.Add(stem))
                {
                    throw new CliUserException($"Two inputs are named '{stem}' with different extensions; their outputs would collide. Rename one.");
                }
                jobs.Add(new Job(input,
                    Path.Combine(settings.Output, "lq", stem + ".png"),
                    Path.Combine(settings.Output, "lq", stem + ".json"),
                    Path.Combine(settings.Output, "hq", stem + ".png")));
            }
        }
        else if (File.Exists(settings.Input))
        {
            if (Directory.Exists(settings.Output))
            {
                throw new CliUserException($"The input is a file, so --output must be an image file (e.g. lq.png); '{settings.Output}' is a folder.");
            }
            try
            {
                ImageIO.FormatFromExtension(settings.Output);
            }
            catch (ImageSaveException ex)
            {
                throw new CliUserException(ex.Message);
            }
            jobs.Add(new Job(settings.Input, settings.Output, Path.ChangeExtension(settings.Output, ".json"), null));
        }
        else
        {
            throw new CliUserException($"The input '{settings.Input}' does not exist.");
        }

        var inputPaths = new HashSet<string>(jobs.Select(j => Path.GetFullPath(j.Input)), StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            foreach (var output in new[] { job.Lq, job.Sidecar, job.Hq })
            {
                if (output is null)
                {
                    continue;
                }
                if (inputPaths.Contains(Path.GetFullPath(output)))
                {
                    throw new CliUserException($"'{output}' is an input; the degrade command never overwrites its inputs. Choose another --output.");
                }
                if (!settings.Force && File.Exists(output))
                {
                    throw new CliUserException($"'{output}' exists. Choose another --output or pass --force to replace it.");
                }
            }
        }
        return jobs;
    }

    private static void Degrade(IDegradationModel model, Job job, long seed, bool force)
    {
        using var scope = torch.NewDisposeScope();
        var image = ImageIO.Load(job.Input);
        long height = image.shape[2], width = image.shape[3];
        var factor = model.ScaleFactor;
        long cropH = height / factor * factor, cropW = width / factor * factor;
        if (cropH == 0 || cropW == 0)
        {
            throw new CliUserException($"'{job.Input}' ({width}×{height}) is smaller than the scale factor {factor}.");
        }
        // Top-left crop to a multiple of the factor, so LQ pixel (i, j) covers HQ pixels factor·(i, j) onwards.
        var hq = image.narrow(2, 0, cropH).narrow(3, 0, cropW).contiguous();
        var trace = new DegradationTrace(1);
        Tensor lq;
        using (var generator = new Generator((ulong)seed, torch.CPU))
        {
            try
            {
                lq = DegradationTrace.ApplyTraced(model, hq, generator, trace);
            }
            catch (DegradationException ex)
            {
                throw new CliUserException($"'{job.Input}': {ex.Message}");
            }
        }

        var save = new ImageSaveOptions { SourcePath = job.Input, Overwrite = force };
        if (job.Hq is not null)
        {
            CliPaths.EnsureParentFolder(job.Hq);
            ImageIO.Save(hq, job.Hq, save);
        }
        CliPaths.EnsureParentFolder(job.Lq);
        // The sidecar goes first and the LQ image second, so an LQ image never stands without its sidecar: a crash
        // between the two leaves a sidecar without an image (re-run the command), and a failed image write puts the
        // previous sidecar back (or removes the new one).
        byte[]? previousSidecar = File.Exists(job.Sidecar) ? File.ReadAllBytes(job.Sidecar) : null;
        WriteSidecar(job, model, seed, trace, (width, height), (cropW, cropH), (lq.shape[3], lq.shape[2]));
        try
        {
            ImageIO.Save(lq, job.Lq, save);
        }
        catch
        {
            if (previousSidecar is null)
            {
                File.Delete(job.Sidecar);
            }
            else
            {
                ImageIO.WriteAtomically(job.Sidecar, previousSidecar);
            }
            throw;
        }
        CliApp.Console.MarkupLineInterpolated(
            $"[green]{job.Lq}[/] ({lq.shape[3]}×{lq.shape[2]}) from {job.Input} ({width}×{height}), seed {seed}");
    }

    private static void WriteSidecar(Job job, IDegradationModel model, long seed, DegradationTrace trace,
        (long W, long H) original, (long W, long H) hq, (long W, long H) lq)
    {
        var document = new Dictionary<string, object?>
        {
            ["tool"] = "latent-indigo degrade",
            ["version"] = LibraryInfo.Version,
            ["input"] = Path.GetFullPath(job.Input),
            ["degradation"] = model.Spec,
            ["seed"] = seed,
            ["scaleFactor"] = model.ScaleFactor,
            ["hq"] = new Dictionary<string, object?>
            {
                ["path"] = job.Hq is null ? Path.GetFullPath(job.Input) : Path.GetFullPath(job.Hq),
                ["crop"] = new Dictionary<string, long> { ["x"] = 0, ["y"] = 0, ["width"] = hq.W, ["height"] = hq.H },
                ["originalWidth"] = original.W,
                ["originalHeight"] = original.H,
            },
            ["lq"] = new Dictionary<string, object?>
            {
                ["path"] = Path.GetFullPath(job.Lq),
                ["width"] = lq.W,
                ["height"] = lq.H,
            },
            ["steps"] = trace.StepsOf(0).Select(s => new Dictionary<string, object?>
            {
                ["operator"] = s.Operator,
                ["parameters"] = s.Parameters,
            }).ToList(),
        };
        var json = JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        // The library's atomic write (temporary file beside the target, then a rename), as for the images.
        EvaluationReport.WriteAtomically(job.Sidecar, json + "\n");
    }
}
