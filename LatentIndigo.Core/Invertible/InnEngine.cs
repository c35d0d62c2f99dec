namespace LatentIndigo.Invertible;

/// <summary>
/// Which runtime computes a <see cref="LiftingInn"/>'s no-gradient passes and the guidance gradient
/// (<see cref="LiftingInn.Engine"/>). Training and blind refinement (weight gradients) always use TorchSharp autograd.
/// </summary>
public enum InnEngine
{
    /// <summary>
    /// ONNX Runtime for float32 networks (generated graphs, docs/onnx-inn.md), TorchSharp otherwise (float64 networks,
    /// passes under autograd that need weight gradients, an app without ONNX Runtime's native library). The default.
    /// </summary>
    Auto = 0,

    /// <summary>
    /// Always ONNX Runtime for passes without weight gradients; a network it cannot run (not float32) is an error.
    /// </summary>
    OnnxRuntime = 1,

    /// <summary>Always TorchSharp (libtorch), with autograd: the fallback, and the reference the graphs are tested against.</summary>
    TorchSharp = 2,
}
