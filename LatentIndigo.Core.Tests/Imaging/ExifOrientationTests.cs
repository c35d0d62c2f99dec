using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Imaging;

public class ExifOrientationTests
{
    // Inserts an APP1 Exif segment holding only the orientation tag (0x0112) right after the JPEG SOI marker.
    private static byte[] WithOrientation(byte[] jpeg, ushort orientation)
    {
        var exif = new List<byte>();
        exif.AddRange("Exif\0\0"u8.ToArray());
        exif.AddRange(new byte[] { (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8 }); // big-endian TIFF header, IFD at 8
        exif.AddRange(new byte[] { 0, 1 });                                    // one entry
        exif.AddRange(new byte[] { 0x01, 0x12, 0, 3, 0, 0, 0, 1 });            // tag 0x0112, SHORT, count 1
        exif.AddRange(new byte[] { (byte)(orientation >> 8), (byte)orientation, 0, 0 });
        exif.AddRange(new byte[] { 0, 0, 0, 0 });                              // no next IFD
        int length = exif.Count + 2;
        var segment = new List<byte> { 0xFF, 0xE1, (byte)(length >> 8), (byte)length };
        segment.AddRange(exif);
        return jpeg.Take(2).Concat(segment).Concat(jpeg.Skip(2)).ToArray();
    }

    // Displayed pixel (i, j) for each orientation, as a function of the stored image S (h rows, w columns).
    private static float Expected(float[,] s, int orientation, int i, int j)
    {
        int h = s.GetLength(0), w = s.GetLength(1);
        return orientation switch
        {
            1 => s[i, j],
            2 => s[i, w - 1 - j],
            3 => s[h - 1 - i, w - 1 - j],
            4 => s[h - 1 - i, j],
            5 => s[j, i],
            6 => s[h - 1 - j, i],
            7 => s[h - 1 - j, w - 1 - i],
            8 => s[j, w - 1 - i],
            _ => throw new ArgumentOutOfRangeException(nameof(orientation)),
        };
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Orientation_is_applied(int orientation)
    {
        // A non-square, asymmetric picture so every flip/turn is distinguishable.
        using var photo = ImageIO.Load(TestData.Cc0("chelsea.png")).narrow(2, 0, 40).narrow(3, 0, 64).contiguous();
        var jpeg = WithOrientation(ImageIO.Encode(photo, ImageFileFormat.Jpeg, 90), (ushort)orientation);
        using var stored = ImageIO.Decode(jpeg, "o.jpg", new ImageLoadOptions { ApplyExifOrientation = false });
        using var shown = ImageIO.Decode(jpeg, "o.jpg");
        Assert.Equal(new long[] { 1, 3, 40, 64 }, stored.shape);
        bool swapped = orientation >= 5;
        Assert.Equal(swapped ? new long[] { 1, 3, 64, 40 } : new long[] { 1, 3, 40, 64 }, shown.shape);

        var s = new float[40, 64];
        var storedGreen = stored[0, 1].data<float>().ToArray();
        for (int i = 0; i < 40; i++)
        for (int j = 0; j < 64; j++)
        {
            s[i, j] = storedGreen[i * 64 + j];
        }
        var shownGreen = shown[0, 1];
        int rows = (int)shown.shape[2], cols = (int)shown.shape[3];
        var actual = shownGreen.data<float>().ToArray();
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
        {
            Assert.Equal(Expected(s, orientation, i, j), actual[i * cols + j]);
        }
    }
}
