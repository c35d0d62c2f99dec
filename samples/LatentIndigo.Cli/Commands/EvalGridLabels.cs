using LatentIndigo.Imaging;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// The panel labels of <c>eval</c>'s grids: a white strip of <see cref="Height"/> pixels on top of the grid
/// (<see cref="LatentIndigo.Evaluation.ComparisonGrid"/>), with each panel's name centred above it in black, drawn with
/// SkiaSharp. A name wider than its panel is shortened with "…".
/// </summary>
internal static class EvalGridLabels
{
    /// <summary>Height of the label strip in pixels.</summary>
    public const int Height = 22;

    private const float TextSize = 14;

    /// <summary>
    /// The grid with the strip on top, or the grid unchanged (null font file) when no font is installed
    /// (<see cref="CliFonts"/>). Panels are <paramref name="panelWidth"/> wide and evenly spaced across the grid.
    /// </summary>
    public static Tensor Add(Tensor grid, IReadOnlyList<string> labels, long panelWidth, string? fontFile)
    {
        if (fontFile is null || labels.Count == 0)
        {
            return grid;
        }
        int width = checked((int)grid.shape[3]);
        int n = labels.Count;
        // ComparisonGrid places panel i at i·(panel width + gap); the gap follows from the grid's width.
        double gap = n > 1 ? (width - n * (double)panelWidth) / (n - 1) : 0;
        using var typeface = SKTypeface.FromFile(fontFile);
        if (typeface is null)
        {
            return grid;
        }
        using var font = new SKFont(typeface, TextSize);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var bitmap = new SKBitmap(new SKImageInfo(width, Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            // Baseline so that the font's ascent and descent are centred in the strip.
            var metrics = font.Metrics;
            float baseline = (Height - (metrics.Descent - metrics.Ascent)) / 2 - metrics.Ascent;
            for (int i = 0; i < n; i++)
            {
                float left = (float)(i * (panelWidth + gap));
                string text = Fit(labels[i], font, panelWidth - 4);
                canvas.DrawText(text, left + panelWidth / 2f, baseline, SKTextAlign.Center, font, paint);
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var strip = ImageIO.Decode(data.ToArray(), "grid labels");
        return torch.cat(new[] { strip.to(grid.dtype), grid }, 2);
    }

    private static string Fit(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth)
        {
            return text;
        }
        for (int length = text.Length - 1; length > 0; length--)
        {
            string shortened = text[..length] + "…";
            if (font.MeasureText(shortened) <= maxWidth)
            {
                return shortened;
            }
        }
        return "…";
    }
}
