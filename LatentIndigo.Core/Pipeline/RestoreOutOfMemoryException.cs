using System.Runtime.InteropServices;
using TorchSharp;

namespace LatentIndigo.Pipeline;

/// <summary>
/// A restoration ran out of memory on its device (libtorch, ONNX Runtime or .NET). The message names the device and
/// the settings that bound the working set; the original error is the inner exception.
/// </summary>
public sealed class RestoreOutOfMemoryException : LatentIndigoException
{
    /// <summary>Creates the exception.</summary>
    public RestoreOutOfMemoryException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>
    /// True for the out-of-memory errors of the native backends (TorchSharp surfaces libtorch's as
    /// <see cref="ExternalException"/>, ONNX Runtime's own type says "Failed to allocate") and .NET's own.
    /// </summary>
    internal static bool IsOutOfMemory(Exception exception) => exception switch
    {
        OutOfMemoryException => true,
        LatentIndigoException => false,
        _ => exception.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
            || exception.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)
            || exception.Message.Contains("Failed to allocate memory", StringComparison.OrdinalIgnoreCase),
    };

    /// <summary>Wraps <paramref name="exception"/> with what to change for a run with these options on this device.</summary>
    internal static RestoreOutOfMemoryException For(Exception exception, RestoreOptions options, torch.Device device, int tileBatchSize)
    {
        var advice = new List<string>();
        if (tileBatchSize > 1)
        {
            advice.Add($"TileBatchSize = 1 (now {tileBatchSize} tiles per model call)");
        }
        if (options.Tile > 32)
        {
            advice.Add($"a smaller LatentTileSize, e.g. {options.Tile / 2} (now {options.Tile}; CLI --tile)");
        }
        if (options.Strategy == GuidanceStrategy.PixelInn)
        {
            advice.Add("the LatentInn strategy (pixel guidance holds the autograd graph of a decoded tile)");
        }
        advice.Add("a smaller input or scale factor");
        return new RestoreOutOfMemoryException(
            $"The restoration ran out of memory on {device} ({exception.GetType().Name}: {FirstLine(exception.Message)}). " +
            $"Memory is bounded by the tile, not the image: try {string.Join("; or ", advice)}.", exception);
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
