using System.ComponentModel;
using System.Globalization;
using LatentIndigo.Invertible;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo eval-inn</c>: how well an INN's coarse band imitates a degradation, as a table of PSNR against the
/// true degraded image per image, and the mean.
/// </summary>
public sealed class EvalInnCommand : Command<EvalInnCommand.Settings>
{
    /// <summary>Options of <c>eval-inn</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>Weights to evaluate.</summary>
        [CommandOption("--weights <INN>")]
        [Description("INN weights: a .inn file, an official INDIGO+ .pth, or a bundled name (bicubic-x4, realworld-x4).")]
        public string Weights { get; init; } = "";

        /// <summary>Images.</summary>
        [CommandOption("--images <PATH>")]
        [Description("High-quality images (folder or file; repeatable).")]
        public string[] Images { get; init; } = [];

        /// <summary>Degradation spec.</summary>
        [CommandOption("--degradation <SPEC>")]
        [Description("Degradation to compare against (default: the one stored with the weights).")]
        public string? Degradation { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Weights)) return ValidationResult.Error("--weights is required.");
            if (Images.Length == 0) return ValidationResult.Error("--images is required.");
            return ValidationResult.Success();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var inn = InnCommandSupport.LoadInn(settings.Weights);
        var spec = settings.Degradation ?? (inn.Metadata.TryGetValue("degradation", out var stored) ? stored
            : throw new CliUserException("These weights do not say which degradation they imitate: pass --degradation."));
        var degradation = InnCommandSupport.ParseDegradation(spec);
        using var images = InnImageSet.FromPaths(settings.Images, cancellationToken);
        var results = InnEvaluation.CoarsePsnr(inn, degradation, images, cancellationToken: cancellationToken);
        var table = new Table().AddColumn("image").AddColumn(new TableColumn("coarse vs LQ PSNR (dB)").RightAligned());
        foreach (var (name, psnr) in results)
        {
            table.AddRow(Markup.Escape(name), psnr.ToString("F2", CultureInfo.InvariantCulture));
        }
        double mean = results.Average(r => r.Psnr);
        table.AddRow("[bold]mean[/]", $"[bold]{mean.ToString("F2", CultureInfo.InvariantCulture)}[/]");
        var console = CliApp.Console;
        console.MarkupLineInterpolated($"INN {settings.Weights} vs degradation [bold]{degradation.Spec}[/]:");
        console.Write(table);
        return 0;
    }
}
