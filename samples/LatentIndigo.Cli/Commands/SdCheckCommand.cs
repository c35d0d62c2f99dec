using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo sd-check &lt;folder&gt;</c> (or <c>--stand-in</c>): loads and validates an SD ONNX export, prints
/// what was found, then encodes a synthetic image, runs one UNet + DDIM step and decodes, with timings.
/// </summary>
public sealed class SdCheckCommand : Command<SdCheckCommand.Settings>
{
    /// <summary>Arguments of <c>sd-check</c>.</summary>
    public sealed class Settings : ProviderSettings
    {
        /// <summary>The export folder.</summary>
        [CommandArgument(0, "[folder]")]
        [Description("Stable Diffusion ONNX export folder (diffusers or optimum layout).")]
        public string? Folder { get; init; }

        /// <summary>Use generated stand-in models instead of a real export.</summary>
        [CommandOption("--stand-in")]
        [Description("Check generated stand-in models (plumbing only, not a diffusion model) instead of a folder.")]
        public bool StandIn { get; init; }

        /// <summary>Edge of the synthetic test image.</summary>
        [CommandOption("--size")]
        [Description("Edge in pixels of the synthetic test image (multiple of 8, default 256).")]
        [DefaultValue(256)]
        public int Size { get; init; } = 256;

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (StandIn == (Folder is not null))
            {
                return ValidationResult.Error("Give either a model folder or --stand-in.");
            }
            if (Size is < 8 or > 4096 || Size % 8 != 0)
            {
                return ValidationResult.Error("--size must be a multiple of 8 between 8 and 4096.");
            }
            return base.Validate();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var standIn = settings.StandIn ? StandInModelBuilder.CreateTemporary() : null;
        var folder = standIn?.Path ?? settings.Folder!;
        var options = settings.ModelOptions();
        var console = CliApp.Console;
        var clock = Stopwatch.StartNew();
        using var models = StableDiffusionModels.Load(folder, options);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        if (models.IsStandIn)
        {
            console.MarkupLine("[yellow]STAND-IN MODELS:[/] generated test graphs, not a diffusion model. This checks plumbing only.");
        }
        // The library runs the models (their wrappers and bound buffers are internal); the CLI only prints.
        var check = models.Check(settings.Size, cancellationToken);
        var table = new Table().AddColumn("found").AddColumn("value");
        foreach (var (name, value) in check.Facts)
        {
            table.AddRow(Markup.Escape(name), Markup.Escape(value));
        }
        console.Write(table);
        // What loading decided about this export (overridden settings, rewritten graphs, static-size constraints, …).
        foreach (var note in models.LoadNotes)
        {
            console.MarkupLineInterpolated($"[yellow]note:[/] {note}");
        }
        if (!check.StepIsFinite)
        {
            throw new CliUserException("The DDIM step produced NaN or infinite latents: the UNet output is not usable.");
        }
        var timings = new List<(string, double)> { ("load + validate", loadMs) };
        timings.AddRange(check.Stages.Select(s => (s.Name, s.Duration.TotalMilliseconds)));
        var timingTable = new Table().AddColumn("stage").AddColumn(new TableColumn("ms").RightAligned());
        foreach (var (stage, ms) in timings)
        {
            timingTable.AddRow(Markup.Escape(stage), ms.ToString("F1", CultureInfo.InvariantCulture));
        }
        console.Write(timingTable);
        double error = check.VaeRoundTripError;
        console.MarkupLineInterpolated(
            $"VAE round trip: decoded [[{string.Join("×", check.DecodedShape)}]], mean |decode(encode(x)) − x| = {error.ToString("F4", CultureInfo.InvariantCulture)}{(models.IsStandIn ? " (stand-in models)" : "")}.");
        console.MarkupLine(models.IsStandIn ? "[green]OK[/] (stand-in models: plumbing only)." : "[green]OK[/]: the export loads and runs.");
        return 0;
    }
}
