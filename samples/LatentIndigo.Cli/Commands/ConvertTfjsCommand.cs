using System.ComponentModel;
using LatentIndigo.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo convert-tfjs &lt;model.json&gt; -o model.onnx --range 0-255</c>: converts a TensorFlow.js layers
/// super-resolution model (UpscalerJS's ESRGAN packages) to ONNX for <c>--estimator</c> (<see cref="TfjsLayersConverter"/>).
/// </summary>
public sealed class ConvertTfjsCommand : Command<ConvertTfjsCommand.Settings>
{
    /// <summary>Arguments of <c>convert-tfjs</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>The TF.js model.json.</summary>
        [CommandArgument(0, "<model.json>")]
        [Description("TF.js layers model.json; its weight shards are read from the same folder.")]
        public string ModelJson { get; init; } = "";

        /// <summary>The ONNX file to write.</summary>
        [CommandOption("-o|--output <FILE>")]
        [Description("The ONNX file to write.")]
        public string? Output { get; init; }

        /// <summary>The network's pixel range.</summary>
        [CommandOption("--range <RANGE>")]
        [Description("Pixel range the network was trained on: 0-1 (default; UpscalerJS esrgan-thick) or 0-255 (esrgan-slim, esrgan-medium). Recorded in the ONNX metadata.")]
        [DefaultValue("0-1")]
        public string Range { get; init; } = "0-1";

        /// <summary>Allow replacing an existing output file.</summary>
        [CommandOption("--force")]
        [Description("Replace the output file if it exists.")]
        public bool Force { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("-o|--output <file.onnx> is required.");
            }
            return Range is "0-1" or "0-255" ? ValidationResult.Success() : ValidationResult.Error($"--range must be 0-1 or 0-255; got '{Range}'.");
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string output = settings.Output!;
        if (File.Exists(output) && !settings.Force)
        {
            throw new CliUserException($"'{output}' exists; pass --force to replace it.");
        }
        if (Directory.Exists(output))
        {
            throw new CliUserException($"'{output}' is a folder; -o names the ONNX file to write.");
        }
        var range = settings.Range == "0-255" ? PixelValueRange.ZeroTo255 : PixelValueRange.ZeroToOne;
        TfjsLayersConverter.Convert(settings.ModelJson, output, range);
        // Load it back: proves ONNX Runtime accepts the graph and reports its scale.
        using var estimator = OnnxUpscaleEstimator.Load(output);
        CliApp.Console.MarkupLineInterpolated($"Wrote [green]{output}[/] ({new FileInfo(output).Length / 1024} KiB): ×{estimator.Scale}, pixel range {settings.Range}. Use it with --estimator {output}.");
        return 0;
    }
}
