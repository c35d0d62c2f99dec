using System.ComponentModel;
using LatentIndigo.Orleans;
using LatentIndigo.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary>
/// <c>latent-indigo cluster submit</c>: submits a folder of images as a job to a running cluster, prints the job id and,
/// with <c>--watch</c>, follows it to the end. Input and output folders must be at the same path on every worker silo.
/// </summary>
public sealed class ClusterSubmitCommand : Command<ClusterSubmitCommand.Settings>
{
    /// <summary>Options of <c>cluster submit</c>.</summary>
    public sealed class Settings : ClusterSettings
    {
        /// <summary>Input folder.</summary>
        [CommandArgument(0, "<input>")]
        [Description("A folder of low-quality images (PNG, JPEG, WebP, BMP) that every worker silo sees at this path (a shared folder).")]
        public string Input { get; init; } = "";

        /// <summary>Output folder.</summary>
        [CommandOption("-o|--output <FOLDER>")]
        [Description("Output folder (shared like the input): one PNG per input.")]
        public string Output { get; init; } = "";

        /// <summary>Job id.</summary>
        [CommandOption("--job-id <ID>")]
        [Description("The job's id (default: a new GUID). Submitting the same id with the same job again is harmless.")]
        public string? JobId { get; init; }

        /// <summary>Watch.</summary>
        [CommandOption("--watch")]
        [Description("Follow the job until it ends (as 'cluster watch' does).")]
        public bool Watch { get; init; }

        /// <summary>Strategy.</summary>
        [CommandOption("--strategy <NAME>")]
        [Description("pixel (default), latent, none or inn-only.")]
        [DefaultValue("pixel")]
        public string Strategy { get; init; } = "pixel";

        /// <summary>Scale.</summary>
        [CommandOption("--scale <N>")]
        [Description("Upscaling factor: 1, 2, 4 or 8 (default 4).")]
        [DefaultValue(4)]
        public int Scale { get; init; } = 4;

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

        /// <summary>Blind mode.</summary>
        [CommandOption("--blind")]
        [Description("Unknown degradation: refine the INN on each input while sampling.")]
        public bool Blind { get; init; }

        /// <summary>Initial estimator.</summary>
        [CommandOption("--estimator <NAME>")]
        [Description("The initial estimate: bicubic (default), esrgan-slim-x4 / esrgan-slim-x2 (bundled ESRGAN, UpscalerJS, MIT) " +
            "or an ONNX super-resolution model file that every worker silo sees at this path.")]
        public string? Estimator { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("-o|--output <folder> is required.");
            }
            if (RestoreCommand.ParseStrategy(Strategy) is null)
            {
                return ValidationResult.Error($"--strategy must be pixel, latent, none or inn-only; got '{Strategy}'.");
            }
            if (JobId is { } id && (id.Length is 0 or > 200 || id.Any(char.IsWhiteSpace)))
            {
                return ValidationResult.Error("--job-id must be 1-200 characters without spaces.");
            }
            if (EstimatorSupport.Check(Estimator, "--estimator") is { } problem)
            {
                return ValidationResult.Error(problem);
            }
            return base.Validate();
        }

        /// <summary>The job's settings.</summary>
        internal ClusterRestoreSettings RestoreSettings() => new()
        {
            Strategy = RestoreCommand.ParseStrategy(Strategy)!.Value.ToString(),
            ScaleFactor = Scale,
            Steps = Steps,
            Strength = Strength,
            Seed = Seed,
            LatentTileSize = Tile,
            Blind = Blind,
            Estimator = EstimatorSupport.IsBicubic(Estimator) ? null
                : EstimatorSupport.IsBundled(Estimator!) ? Estimator!.ToLowerInvariant() : Path.GetFullPath(Estimator!),
        };
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        RunAsync(settings, cancellationToken).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var console = CliApp.Console;
        if (!Directory.Exists(settings.Input))
        {
            throw new CliUserException($"The input folder '{settings.Input}' does not exist (cluster jobs take a folder that every worker silo sees at that path).");
        }
        var restoreSettings = settings.RestoreSettings();
        try
        {
            restoreSettings.ToRestoreOptions().Validate();
        }
        catch (InvalidRestoreOptionsException ex)
        {
            throw new CliUserException(CliErrors.ForCli(ex.Message));
        }
        // The network must load and upscale by the job's factor: refused here, not on every image by every worker.
        EstimatorSupport.Load(restoreSettings.Estimator, restoreSettings.ScaleFactor, new LatentIndigo.Diffusion.DiffusionModelOptions())?.Dispose();
        var spec = RestoreJobSpec.FromFolders(Path.GetFullPath(settings.Input), Path.GetFullPath(settings.Output), restoreSettings);
        if (spec.Inputs.Count == 0)
        {
            throw new CliUserException($"'{settings.Input}' holds no images (PNG, JPEG, WebP, BMP).");
        }
        Directory.CreateDirectory(settings.Output);
        await using var connection = await ClusterConnection.OpenAsync(settings, cancellationToken);
        string jobId;
        try
        {
            jobId = await connection.Jobs.SubmitAsync(spec, settings.JobId);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new CliUserException(ex.Message);
        }
        console.MarkupLineInterpolated($"Submitted job [bold]{jobId}[/]: {spec.Inputs.Count} image(s) to {Path.GetFullPath(settings.Output)}.");
        return settings.Watch ? await ClusterWatchCommand.WatchAsync(console, connection.Jobs, jobId, cancellationToken) : 0;
    }
}
