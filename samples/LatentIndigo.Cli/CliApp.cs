using LatentIndigo.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli;

/// <summary>Builds the <c>latent-indigo</c> command tree. Public so tests can run commands in-process.</summary>
public static class CliApp
{
    private static readonly AsyncLocal<IAnsiConsole?> CurrentConsole = new();

    /// <summary>The console commands write to: the one given to <see cref="Run"/>, else the process console.</summary>
    public static IAnsiConsole Console => CurrentConsole.Value ?? AnsiConsole.Console;

    /// <summary>Runs the CLI with the given arguments and returns the process exit code.</summary>
    public static int Run(string[] args, CancellationToken cancellationToken = default, IAnsiConsole? console = null)
    {
        CurrentConsole.Value = console;
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("latent-indigo");
            if (console is not null)
            {
                config.ConfigureConsole(console);
            }
            config.PropagateExceptions();
            // One line per command; each command lives in Commands/<Name>Command.cs.
            config.AddCommand<InfoCommand>("info").WithDescription("Library, TorchSharp/libtorch and ONNX Runtime versions, providers and threads.");
            config.AddCommand<SdCheckCommand>("sd-check").WithDescription("Validate a Stable Diffusion ONNX export folder and run one VAE + UNet step on it (or on stand-ins).");
            config.AddCommand<ConvertCommand>("convert").WithDescription("Convert an image between PNG, JPEG, WebP and BMP (EXIF orientation applied).");
            config.AddCommand<DegradeCommand>("degrade").WithDescription("Make LQ/HQ pairs with a degradation spec (bicubic:x4, gauss:sigma=2>jpeg:q=40, realesrgan:x4, ...), with a JSON sidecar of the drawn parameters.");
            config.AddCommand<TrainInnCommand>("train-inn").WithDescription("Train a pixel INN to imitate a degradation (random crops, validation PSNR, checkpoints).");
            config.AddCommand<EvalInnCommand>("eval-inn").WithDescription("PSNR of an INN's coarse band against the true degraded images.");
            config.AddCommand<RestoreCommand>("restore").WithDescription("Upscale a low-quality image (INN-only without a Stable Diffusion export: no generative prior).");
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
            Console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return 2;
        }
        catch (CliUserException ex)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return 1;
        }
        catch (LatentIndigoException ex)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return 1;
        }
    }
}
