using System.Buffers.Binary;
using LatentIndigo.Imaging;
using TorchSharp;

namespace LatentIndigo.Web.Tests;

/// <summary>Images the tests upload: the bundled sample, and generated ones sized to hit each limit.</summary>
internal static class TestImages
{
    /// <summary>The bundled sample samples/data/lq/chelsea_x4.png (112×75), copied next to the tests with the web app.</summary>
    public static string ChelseaPath => Path.Combine(AppContext.BaseDirectory, "samples", "chelsea_x4.png");

    public const int ChelseaWidth = 112;
    public const int ChelseaHeight = 75;

    public static byte[] Chelsea => File.ReadAllBytes(ChelseaPath);

    /// <summary>Uniform noise: PNG cannot compress it, so its size in bytes grows with its area (≈3 bytes a pixel).</summary>
    public static byte[] Noise(int width, int height, int seed = 1)
    {
        torch.manual_seed(seed);
        using var image = torch.rand(1, 3, height, width);
        return ImageIO.Encode(image, ImageFileFormat.Png);
    }

    /// <summary>One flat colour: many pixels in very few bytes.</summary>
    public static byte[] Flat(int width, int height)
    {
        using var image = torch.full(1, 3, height, width, 0.5f);
        return ImageIO.Encode(image, ImageFileFormat.Png);
    }

    /// <summary>
    /// A PNG whose header claims <paramref name="width"/>×<paramref name="height"/> while its data is that of a 4×4
    /// image: any decoder fails on it, so a refusal that names the claimed size proves the check read only the header.
    /// </summary>
    public static byte[] HeaderClaiming(int width, int height)
    {
        var png = Flat(4, 4);
        // Signature (8) | IHDR length (4) | "IHDR" (4) | width (4) | height (4) | 5 more bytes | CRC over type and data.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    /// <summary>Width and height from a PNG's IHDR chunk.</summary>
    public static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.Length > 24 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "not a PNG");
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    // The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320), bit by bit.
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }
}
