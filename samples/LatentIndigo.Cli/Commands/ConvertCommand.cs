using System.ComponentModel;
using LatentIndigo.Imaging;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo convert &lt;input&gt; &lt;output&gt;</c>: re-encodes an image (format from the output extension),
/// applying its EXIF orientation, optionally shrinking it by an integer factor with area averaging.
/// </summary>
public sealed class ConvertCommand : Command<ConvertCommand.Settings>
{
    /// <summary>Arguments of <c>convert</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>Input image (PNG, JPEG, WebP, BMP).</summary>
        [CommandArgument(0, "<input>")]
        [Description("Input image (PNG, JPEG, WebP or BMP).")]
        public string Input { get; init; } = "";

        /// <summary>Output image (.png, .jpg, .webp).</summary>
        [CommandArgument(1, "<output>")]
        [Description("Output image; the format follows the extension (.png, .jpg, .jpeg, .webp).")]
        public string Output { get; init; } = "";

        /// <summary>JPEG/WebP quality.</summary>
        [CommandOption("-q|--quality")]
        [Description("JPEG/WebP quality, 0-100 (default 95).")]
        [DefaultValue(95)]
        public int Quality { get; init; } = 95;

        /// <summary>Integer shrink factor (area average).</summary>
        [CommandOption("--shrink")]
        [Description("Shrink by an integer factor with area averaging (default 1: same size). The size is first cropped to a multiple.")]
        [DefaultValue(1)]
        public int Shrink { get; init; } = 1;

        /// <summary>Allow replacing an existing output file.</summary>
        [CommandOption("--force")]
        [Description("Replace the output file if it exists (the input is never overwritten).")]
        public bool Force { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Quality is < 0 or > 100)
            {
                return ValidationResult.Error("--quality must be between 0 and 100.");
            }
            if (Shrink is < 1 or > 64)
            {
                return ValidationResult.Error("--shrink must be between 1 and 64.");
            }
            return ValidationResult.Success();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        var image = ImageIO.Load(settings.Input);
        int height = (int)image.shape[2], width = (int)image.shape[3];
        if (settings.Shrink > 1)
        {
            int k = settings.Shrink;
            if (height < k || width < k)
            {
                throw new CliUserException($"The image ({width}×{height}) is smaller than the shrink factor {k}.");
            }
            image = torch.nn.functional.avg_pool2d(image.narrow(2, 0, height / k * k).narrow(3, 0, width / k * k), k);
        }
        cancellationToken.ThrowIfCancellationRequested();
        CliPaths.EnsureParentFolder(settings.Output);
        ImageIO.Save(image, settings.Output, new ImageSaveOptions
        {
            Quality = settings.Quality,
            SourcePath = settings.Input,
            Overwrite = settings.Force,
        });
        CliApp.Console.MarkupLineInterpolated(
            $"Wrote [green]{settings.Output}[/] ({image.shape[3]}×{image.shape[2]}) from {settings.Input} ({width}×{height}).");
        return 0;
    }
}
