using LatentIndigo.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Real JPEG compression (spec <c>jpeg:q=40</c>): each image of the batch is clamped to [0,1], quantised to 8 bits,
/// encoded at quality q and decoded again, through SkiaSharp (libjpeg-turbo). RGB images only.
/// </summary>
public sealed class JpegCompression : DegradationModel
{
    /// <summary>Creates the compression.</summary>
    /// <param name="quality">JPEG quality 1 (worst) to 100 (best).</param>
    public JpegCompression(int quality)
    {
        if (quality is < 1 or > 100)
        {
            throw new DegradationException($"JPEG quality must be an integer from 1 to 100; got {quality}.");
        }
        Quality = quality;
    }

    /// <summary>JPEG quality, 1–100.</summary>
    public int Quality { get; }

    /// <inheritdoc />
    public override int ScaleFactor => 1;

    /// <inheritdoc />
    public override string Spec => $"jpeg:q={Quality}";

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        var images = new List<Tensor>();
        for (var i = 0; i < batch.shape[0]; i++)
        {
            var (decoded, bytes) = RoundTrip(batch.narrow(0, i, 1), Quality);
            trace?.Add(i, new DegradationStep("jpeg", new Dictionary<string, object> { ["q"] = Quality, ["bytes"] = bytes }));
            images.Add(decoded);
        }
        return torch.cat(images, 0);
    }

    /// <summary>Encodes one image [1,3,H,W] at <paramref name="quality"/> and decodes it on the image's device.</summary>
    internal static (Tensor Image, int Bytes) RoundTrip(Tensor image, int quality)
    {
        if (image.shape[1] != 3)
        {
            throw new DegradationException($"JPEG compression needs RGB images (3 channels); got {image.shape[1]} channels.");
        }
        var encoded = ImageIO.Encode(image, ImageFileFormat.Jpeg, quality);
        return (ImageIO.Decode(encoded, "jpeg round trip").to(image.device), encoded.Length);
    }
}
