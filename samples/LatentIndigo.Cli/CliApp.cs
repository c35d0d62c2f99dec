using LatentIndigo.Cli.Commands;
using LatentIndigo.Cli.Commands.Cluster;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli;

/// <summary>Builds the <c>latent-indigo</c> command tree. Public so tests can run commands in-process.</summary>
public static class CliApp
{
    /// <summary>The global flag that adds stack traces to error messages (accepted anywhere on the command line).</summary>
    public const string VerboseFlag = "--verbose";

    private static readonly AsyncLocal<IAnsiConsole?> CurrentConsole = new();

    /// <summary>The console commands write to: the one given to <see cref="Run"/>, else the process console.</summary>
    public static IAnsiConsole Console => CurrentConsole.Value ?? AnsiConsole.Console;

    /// <summary>
    /// Runs the CLI with the given arguments and returns the process exit code: 0 success, 1 an error (one readable
    /// line; with <c>--verbose</c> also the stack trace), 2 a usage error, 130 cancelled.
    /// </summary>
    public static int Run(string[] args, CancellationToken cancellationToken = default, IAnsiConsole? console = null)
    {
        CurrentConsole.Value = console;
        bool verbose = args.Contains(VerboseFlag);
        args = args.Where(a => a != VerboseFlag).ToArray();
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("latent-indigo");
            config.SetApplicationVersion(LibraryInfo.Version); // latent-indigo --version
            config.SetHelpProvider(new CliHelpProvider(config.Settings));
            if (console is not null)
            {
                config.ConfigureConsole(console);
            }
            config.PropagateExceptions();
            // One line per command; each command lives in Commands/<Name>Command.cs.
            config.AddCommand<InfoCommand>("info").WithDescription("Library, TorchSharp/libtorch and ONNX Runtime versions, providers and threads.");
            config.AddCommand<SdCheckCommand>("sd-check").WithDescription("Validate a Stable Diffusion ONNX export folder and run one VAE + UNet step on it (or on stand-ins).");
            config.AddCommand<ImportSdCommand>("import-sd").WithDescription("Convert a diffusers folder or a single-file SD 1.x/2.x checkpoint (.safetensors, .ckpt) into an ONNX export folder, in .NET (no Python).");
            config.AddCommand<ConvertCommand>("convert").WithDescription("Convert an image between PNG, JPEG, WebP and BMP (EXIF orientation applied).");
            config.AddCommand<ConvertTfjsCommand>("convert-tfjs").WithDescription("Convert a TF.js layers super-resolution model (UpscalerJS ESRGAN) to ONNX for --estimator.");
            config.AddCommand<DegradeCommand>("degrade").WithDescription("Make LQ/HQ pairs with a degradation spec (bicubic:x4, gauss:sigma=2>jpeg:q=40, realesrgan:x4, ...), with a JSON sidecar of the drawn parameters.");
            config.AddCommand<TrainInnCommand>("train-inn").WithDescription("Train a pixel INN to imitate a degradation (random crops, validation PSNR, checkpoints).");
            config.AddCommand<EvalInnCommand>("eval-inn").WithDescription("PSNR of an INN's coarse band against the true degraded images.");
            config.AddCommand<EvalCommand>("eval").WithDescription("Score restorations against ground truth: PSNR-Y, SSIM-Y, LR consistency, time and memory per image and strategy, with bicubic as the baseline (CSV, Markdown, grids, chart).");
            config.AddCommand<RestoreCommand>("restore").WithDescription("Upscale a low-quality image (INN-only without a Stable Diffusion export: no generative prior).");
            config.AddBranch("cluster", cluster =>
            {
                cluster.SetDescription("Restore collections on an Orleans cluster with PostgreSQL: run silos, submit, watch and cancel jobs (docs/scale-out.md).");
                cluster.AddCommand<ClusterSiloCommand>("silo").WithDescription("Run a silo until Ctrl+C: a worker hosting a model set (--slots N), or jobs only (--slots 0).");
                cluster.AddCommand<ClusterSubmitCommand>("submit").WithDescription("Submit a shared folder of images as a job; prints the job id (--watch follows it).");
                cluster.AddCommand<ClusterWatchCommand>("watch").WithDescription("Follow a job until it ends (Ctrl+C stops watching, not the job).");
                cluster.AddCommand<ClusterStatusCommand>("status").WithDescription("A job's state now.");
                cluster.AddCommand<ClusterCancelCommand>("cancel").WithDescription("Cancel a job: nothing more is handed out; running images stop.");
            });
            config.AddCommand<BatchCommand>("batch").WithDescription("Restore a folder or manifest as a resumable job: a journal in the output folder, --resume after a crash or Ctrl+C, ETA, a final report.");
        });
        try
        {
            return app.Run(args, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Console.MarkupLine("[yellow]Cancelled.[/] Nothing partial was written.");
            return 130;
        }
        catch (CommandAppException ex)
        {
            string message = CliErrors.ExplainConversionFailure(ex.Message, args) ?? ex.Message;
            return Fail(message, ex, verbose, 2);
        }
        catch (CliUserException ex)
        {
            return Fail(ex.Message, ex, verbose, 1);
        }
        catch (LatentIndigoException ex)
        {
            return Fail(CliErrors.ForCli(ex.Message), ex, verbose, 1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The OS refused a file operation: its cause (no space, permission, not found, link loop) and the next step.
            return Fail($"{IoFailure.Explain(ex, reading: null)}", ex, verbose, 1);
        }
        catch (Exception ex) when (ex is not (StackOverflowException or AccessViolationException))
        {
            // Not a known user error: still one line and exit code 1 (never a crash dump), with a way to see more.
            string message = $"unexpected {ex.GetType().Name}: {ex.Message}";
            if (!verbose)
            {
                message += $" (run again with {VerboseFlag} for the stack trace, and report it if the input was valid)";
            }
            return Fail(message, ex, verbose, 1);
        }
    }

    private static int Fail(string message, Exception ex, bool verbose, int code)
    {
        Console.MarkupLineInterpolated($"[red]error:[/] {message}");
        if (verbose)
        {
            Console.WriteLine(ex.ToString());
        }
        return code;
    }
}
