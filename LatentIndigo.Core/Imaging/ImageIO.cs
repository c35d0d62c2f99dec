using System.Runtime.InteropServices;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Imaging;

/// <summary>
/// Reads and writes images as float32 NCHW tensors in [0,1] (RGB), through SkiaSharp.
/// </summary>
/// <remarks>
/// <para>Channels: grayscale images are replicated to three identical RGB channels. Alpha is dropped: the stored
/// (unpremultiplied) colour of each pixel is kept as is, so transparent regions keep whatever colour the file holds.</para>
/// <para>The EXIF orientation of JPEG/WebP files is applied by default, so tensors are upright.</para>
/// <para>Saving quantises to 8 bits (round to nearest after clamping to [0,1]); load(save(x)) is exact for x on the
/// 1/255 grid with PNG. Saving writes a temporary file beside the destination and moves it into place, so a failure
/// never leaves a partial file.</para>
/// </remarks>
public static class ImageIO
{
    /// <summary>Loads an image file into a <c>[1,3,H,W]</c> float32 tensor in [0,1].</summary>
    /// <exception cref="ImageLoadException">The file is missing, empty, not a regular file, corrupt, unsupported, zero-size or
    /// too large (in bytes or pixels; both are checked before decoding).</exception>
    public static Tensor Load(string path, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageLoadOptions.Default;
        options.Validate();
        return Decode(ImageFileReader.ReadAllBytes(path, options), path, options);
    }

    /// <summary>Loads an image from a stream (read to its end) into a <c>[1,3,H,W]</c> float32 tensor in [0,1].</summary>
    public static Tensor Load(Stream stream, string? sourceName = null, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= ImageLoadOptions.Default;
        string source = sourceName ?? "<stream>";
        return Decode(ImageFileReader.ReadBounded(stream, source, options.MaxFileBytes), source, options);
    }

    /// <summary>Decodes encoded image bytes (PNG, JPEG, WebP, BMP) into a <c>[1,3,H,W]</c> float32 tensor in [0,1].</summary>
    public static Tensor Decode(byte[] data, string? sourceName = null, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= ImageLoadOptions.Default;
        string source = sourceName ?? "<bytes>";
        var pixels = DecodeRgba(data, source, options, out int width, out int height, out var origin);
        using var scope = torch.NewDisposeScope();
        var rgba = torch.tensor(pixels, new long[] { height, width, 4 });
        var image = rgba.narrow(2, 0, 3).permute(2, 0, 1).to(ScalarType.Float32).div_(255f);
        if (options.ApplyExifOrientation)
        {
            image = Orient(image, origin);
        }
        return image.unsqueeze(0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Reads only the header: format and stored width/height (before EXIF orientation). Nothing is decoded; the file
    /// limits of <paramref name="options"/> apply, the pixel limit does not (compare the size yourself).
    /// </summary>
    /// <exception cref="ImageLoadException">The file is missing, empty, not a regular file, too large or not an image.</exception>
    public static (ImageFileFormat Format, int Width, int Height) Identify(string path, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Identify(ImageFileReader.ReadAllBytes(path, options ?? ImageLoadOptions.Default), path);
    }

    /// <summary>Format and stored width/height of encoded image bytes, from the header alone (nothing is decoded).</summary>
    internal static (ImageFileFormat Format, int Width, int Height) Identify(byte[] data, string source)
    {
        if (data.Length == 0)
        {
            throw new EmptyImageException(source);
        }
        var format = Sniff(data, source);
        CheckDeclaredSize(data, format, source);
        using var skData = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(skData) ?? throw new CorruptImageException(source, "the header could not be parsed");
        return (format, codec.Info.Width, codec.Info.Height);
    }

    /// <summary>
    /// Saves a <c>[1,3,H,W]</c> or <c>[3,H,W]</c> tensor in [0,1] (values outside are clamped) as PNG, JPEG or WebP,
    /// chosen by <see cref="ImageSaveOptions.Format"/> or the extension. The write is atomic.
    /// </summary>
    /// <exception cref="ImageOverwriteException">The destination is <see cref="ImageSaveOptions.SourcePath"/>.</exception>
    /// <exception cref="ImageSaveException">The destination exists and overwriting is off, or the write failed.</exception>
    public static void Save(Tensor image, string path, ImageSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageSaveOptions.Default;
        options.Validate();
        var format = options.Format ?? FormatFromExtension(path);
        if (options.SourcePath is not null && !options.AllowOverwriteSource && SameFile(path, options.SourcePath))
        {
            throw new ImageOverwriteException(path);
        }
        if (options.Overwrite == false && File.Exists(path))
        {
            throw new ImageSaveException(path, "the file exists. Choose another path or allow overwriting.");
        }
        var bytes = Encode(image, format, options.Quality);
        WriteAtomically(path, bytes);
    }

    /// <summary>Encodes a <c>[1,3,H,W]</c> or <c>[3,H,W]</c> tensor in [0,1] to PNG, JPEG or WebP bytes.</summary>
    public static byte[] Encode(Tensor image, ImageFileFormat format, int quality = 95)
    {
        if (quality is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "Quality must be between 0 and 100.");
        }
        var skFormat = format switch
        {
            ImageFileFormat.Png => SKEncodedImageFormat.Png,
            ImageFileFormat.Jpeg => SKEncodedImageFormat.Jpeg,
            ImageFileFormat.Webp => SKEncodedImageFormat.Webp,
            _ => throw new ArgumentException($"Saving as {format} is not supported; use PNG, JPEG or WebP.", nameof(format)),
        };
        using var bitmap = ToBitmap(image);
        using var skImage = SKImage.FromBitmap(bitmap);
        using var encoded = skImage.Encode(skFormat, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {bitmap.Width}×{bitmap.Height} image as {format}.");
        return encoded.ToArray();
    }

    /// <summary>Converts a <c>[1,3,H,W]</c> or <c>[3,H,W]</c> tensor in [0,1] to an opaque RGBA 8-bit bitmap.</summary>
    public static SKBitmap ToBitmap(Tensor image)
    {
        var rgb = ImageTensors.AsSingleImage(image, nameof(image));
        int height = (int)rgb.shape[1], width = (int)rgb.shape[2];
        byte[] pixels;
        using (torch.NewDisposeScope())
        {
            if (rgb.isnan().any().item<bool>())
            {
                throw new ArgumentException("The image tensor contains NaN values; there is nothing meaningful to save.", nameof(image));
            }
            var bytes = rgb.detach().to(DeviceType.CPU).to(ScalarType.Float32).clamp(0f, 1f).mul(255f).round().to(ScalarType.Byte);
            var alpha = torch.full(new long[] { 1, height, width }, (byte)255, dtype: ScalarType.Byte);
            pixels = torch.cat(new[] { bytes, alpha }, 0).permute(1, 2, 0).contiguous().data<byte>().ToArray();
        }
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return bitmap;
    }

    /// <summary>Converts a bitmap (any colour type) to a <c>[1,3,H,W]</c> float32 tensor in [0,1]; alpha is dropped.</summary>
    public static Tensor FromBitmap(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var rgba = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!bitmap.CopyTo(rgba, SKColorType.Rgba8888))
        {
            throw new ArgumentException($"The bitmap's colour type {bitmap.ColorType} cannot be converted to RGBA.", nameof(bitmap));
        }
        var pixels = new byte[bitmap.Width * bitmap.Height * 4];
        Marshal.Copy(rgba.GetPixels(), pixels, 0, pixels.Length);
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(pixels, new long[] { bitmap.Height, bitmap.Width, 4 });
        return t.narrow(2, 0, 3).permute(2, 0, 1).to(ScalarType.Float32).div_(255f).unsqueeze(0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The save format implied by a path's extension.</summary>
    public static ImageFileFormat FormatFromExtension(string path)
    {
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => ImageFileFormat.Png,
            ".jpg" or ".jpeg" => ImageFileFormat.Jpeg,
            ".webp" => ImageFileFormat.Webp,
            var ext => throw new ImageSaveException(path,
                $"the extension '{ext}' is not a format that can be saved. Use .png, .jpg, .jpeg or .webp."),
        };
    }

    /// <summary>
    /// Writes bytes through <see cref="AtomicFile"/> (temporary file beside <paramref name="path"/>, then a rename); a
    /// missing folder or an I/O failure is an <see cref="ImageSaveException"/>.
    /// </summary>
    internal static void WriteAtomically(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new ImageSaveException(path, $"the folder '{directory}' does not exist.");
        }
        try
        {
            AtomicFile.WriteAllBytes(full, bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageSaveException(path, IoFailure.Explain(ex, reading: false), ex);
        }
    }

    private static bool SameFile(string a, string b)
    {
        static string Resolve(string p)
        {
            string full = Path.GetFullPath(p);
            try
            {
                var target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true);
                return target?.FullName ?? full;
            }
            catch (IOException)
            {
                return full;
            }
        }
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(Resolve(a), Resolve(b), comparison);
    }

    private static unsafe byte[] DecodeRgba(byte[] data, string source, ImageLoadOptions options,
        out int width, out int height, out SKEncodedOrigin origin)
    {
        if (data.Length == 0)
        {
            throw new EmptyImageException(source);
        }
        var format = Sniff(data, source);
        CheckDeclaredSize(data, format, source);
        using var skData = SKData.CreateCopy(data);
        using var stream = new SKMemoryStream(skData);
        using var codec = SKCodec.Create(stream, out var createResult)
            ?? throw new CorruptImageException(source, $"the {format} header could not be parsed: {createResult}");
        width = codec.Info.Width;
        height = codec.Info.Height;
        origin = codec.EncodedOrigin;
        if (width <= 0 || height <= 0)
        {
            throw new ZeroSizeImageException(source, width, height);
        }
        if ((long)width * height > options.MaxPixels)
        {
            throw new ImageTooLargeException(source, width, height, options.MaxPixels);
        }
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[(long)width * height * 4];
        SKCodecResult result;
        fixed (byte* p = pixels)
        {
            result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result != SKCodecResult.Success)
        {
            throw new CorruptImageException(source, result == SKCodecResult.IncompleteInput
                ? "the data ends before the image does"
                : $"the decoder reported {result}");
        }
        return pixels;
    }

    private static ImageFileFormat Sniff(byte[] d, string source)
    {
        static bool StartsWith(byte[] d, int offset, params byte[] magic)
        {
            if (d.Length < offset + magic.Length)
            {
                return false;
            }
            for (int i = 0; i < magic.Length; i++)
            {
                if (d[offset + i] != magic[i])
                {
                    return false;
                }
            }
            return true;
        }
        if (StartsWith(d, 0, 0x89, (byte)'P', (byte)'N', (byte)'G'))
        {
            return ImageFileFormat.Png;
        }
        if (StartsWith(d, 0, 0xFF, 0xD8, 0xFF))
        {
            return ImageFileFormat.Jpeg;
        }
        if (StartsWith(d, 0, (byte)'R', (byte)'I', (byte)'F', (byte)'F') && StartsWith(d, 8, (byte)'W', (byte)'E', (byte)'B', (byte)'P'))
        {
            return ImageFileFormat.Webp;
        }
        if (StartsWith(d, 0, (byte)'B', (byte)'M'))
        {
            return ImageFileFormat.Bmp;
        }
        string detail =
            StartsWith(d, 0, (byte)'G', (byte)'I', (byte)'F', (byte)'8') ? "GIF is not supported" :
            StartsWith(d, 4, (byte)'f', (byte)'t', (byte)'y', (byte)'p') ? "HEIF/AVIF is not supported" :
            StartsWith(d, 0, (byte)'I', (byte)'I', 42, 0) || StartsWith(d, 0, (byte)'M', (byte)'M', 0, 42) ? "TIFF is not supported" :
            "the data is not a recognised image format";
        throw new UnsupportedImageFormatException(source, detail);
    }

    // Zero sizes are rejected by the decoders with a generic error; read them from the header to say so plainly.
    private static void CheckDeclaredSize(byte[] d, ImageFileFormat format, string source)
    {
        long width = -1, height = -1;
        if (format == ImageFileFormat.Png && d.Length >= 24)
        {
            width = (d[16] << 24) | (d[17] << 16) | (d[18] << 8) | d[19];
            height = (d[20] << 24) | (d[21] << 16) | (d[22] << 8) | d[23];
        }
        else if (format == ImageFileFormat.Bmp && d.Length >= 26)
        {
            width = BitConverter.ToInt32(d, 18);
            // Negative = top-down rows; in long, so int.MinValue (found by fuzzing) does not overflow.
            height = Math.Abs((long)BitConverter.ToInt32(d, 22));
        }
        if (width == 0 || height == 0)
        {
            throw new ZeroSizeImageException(source, (int)Math.Max(width, 0), (int)Math.Min(Math.Max(height, 0), int.MaxValue));
        }
    }

    // image: [3,H,W] as stored; returns it as displayed. EXIF orientations 2–8 are flips and 90° turns.
    private static Tensor Orient(Tensor image, SKEncodedOrigin origin) => origin switch
    {
        SKEncodedOrigin.TopRight => image.flip(2),
        SKEncodedOrigin.BottomRight => image.flip(1, 2),
        SKEncodedOrigin.BottomLeft => image.flip(1),
        SKEncodedOrigin.LeftTop => image.transpose(1, 2),
        SKEncodedOrigin.RightTop => image.transpose(1, 2).flip(2),
        SKEncodedOrigin.RightBottom => image.transpose(1, 2).flip(1, 2),
        SKEncodedOrigin.LeftBottom => image.transpose(1, 2).flip(1),
        _ => image,
    };
}
