using LatentIndigo.Degradations;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;

namespace LatentIndigo.Fuzz;

/// <summary>
/// One fuzz target per parser of untrusted input. Each accepts any bytes: the parser's documented errors (a
/// <see cref="LatentIndigoException"/>) are the expected outcome for bad input; anything else escapes and counts as a
/// crash (AFL records the input).
/// </summary>
public static class FuzzTargets
{
    /// <summary>The targets by name, as the harness and the corpus folders name them.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["image"] = Image,
        ["inn"] = Inn,
        ["scheduler-config"] = SchedulerConfigJson,
        ["spec"] = Spec,
    };

    /// <summary>Image decoding: sniffing, header checks, SkiaSharp's decoders, EXIF orientation.</summary>
    public static void Image(byte[] data)
    {
        try
        {
            // Created per call, not in a static initialiser: under SharpFuzz no instrumented code may run before the
            // fuzzer's loop starts. The pixel limit is small so a header claiming a huge image is refused, not decoded.
            var options = new ImageLoadOptions { MaxPixels = 1 << 22, MaxFileBytes = 1 << 24 };
            using var image = ImageIO.Decode(data, "fuzz", options);
            if (image.shape.Length != 4 || image.shape[1] != 3)
            {
                throw new InvalidOperationException($"decoded an image of shape [{string.Join(",", image.shape)}]");
            }
        }
        catch (ImageLoadException)
        {
        }
    }

    /// <summary>The .inn weight format: magic, JSON header, TorchSharp weights, NaN check.</summary>
    public static void Inn(byte[] data)
    {
        try
        {
            using var inn = LiftingInn.Load(new MemoryStream(data, writable: false), "fuzz.inn");
        }
        catch (InnWeightsException)
        {
        }
    }

    /// <summary>diffusers' scheduler_config.json.</summary>
    public static void SchedulerConfigJson(byte[] data)
    {
        try
        {
            SchedulerConfig.Parse(System.Text.Encoding.UTF8.GetString(data));
        }
        catch (LatentIndigoException)
        {
        }
    }

    /// <summary>Degradation specs (gauss:sigma=2&gt;bicubic:x4 ...): parse, and a parsed model's spec must parse again.</summary>
    public static void Spec(byte[] data)
    {
        IDegradationModel model;
        try
        {
            model = DegradationSpec.Parse(System.Text.Encoding.UTF8.GetString(data));
        }
        catch (DegradationSpecException)
        {
            return;
        }
        var again = DegradationSpec.Parse(model.Spec);
        if (again.Spec != model.Spec || again.ScaleFactor != model.ScaleFactor)
        {
            throw new InvalidOperationException($"spec '{model.Spec}' parsed back as '{again.Spec}'");
        }
    }
}
