using System.Reflection;

namespace LatentIndigo;

/// <summary>Versions of this library and of the native backends it runs on.</summary>
public static class LibraryInfo
{
    /// <summary>The informational version of LatentIndigo.Core.</summary>
    public static string Version =>
        typeof(LibraryInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(LibraryInfo).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The TorchSharp managed assembly version.</summary>
    public static string TorchSharpVersion =>
        typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The ONNX Runtime managed assembly version.</summary>
    public static string OnnxRuntimeVersion =>
        typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "unknown";
}
