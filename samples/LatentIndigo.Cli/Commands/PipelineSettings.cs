using System.ComponentModel;
using LatentIndigo.Invertible;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands;

/// <summary>The options of commands that build a restoration pipeline (restore, eval, batch): where the models run and what runs the INNs.</summary>
public abstract class PipelineSettings : ProviderSettings
{
    /// <summary>auto, onnxruntime or torchsharp.</summary>
    [CommandOption("--inn-engine <NAME>")]
    [Description("What computes the INN's passes without weight gradients (guidance, finish, INN-only): auto (default: ONNX Runtime on the models' provider for float32 INNs), onnxruntime or torchsharp (the fallback). Blind refinement always trains in TorchSharp.")]
    [DefaultValue("auto")]
    public string InnEngine { get; init; } = "auto";

    /// <summary>bicubic, a bundled network or an ONNX file.</summary>
    [CommandOption("--estimator <NAME>")]
    [Description("The initial estimate the restore starts from (INN-only and diffusion): bicubic (default), esrgan-slim-x4 / esrgan-slim-x2 (bundled ESRGAN, UpscalerJS, MIT) or any ONNX super-resolution model file (NCHW or NHWC; range from its metadata or a sidecar model.onnx.json, see docs/usage.md).")]
    public string? Estimator { get; init; }

    /// <summary>The INN engine these settings ask for (validated by <see cref="Validate"/>).</summary>
    internal InnEngine InnEngineKind() => ParseInnEngine(InnEngine) ?? Invertible.InnEngine.Auto;

    private static InnEngine? ParseInnEngine(string name) => name.ToLowerInvariant() switch
    {
        "auto" => Invertible.InnEngine.Auto,
        "onnxruntime" or "ort" => Invertible.InnEngine.OnnxRuntime,
        "torchsharp" or "torch" => Invertible.InnEngine.TorchSharp,
        _ => null,
    };

    /// <inheritdoc />
    public override ValidationResult Validate() => ParseInnEngine(InnEngine) is null
        ? ValidationResult.Error($"--inn-engine must be auto, onnxruntime or torchsharp; got '{InnEngine}'.")
        : EstimatorSupport.Check(Estimator, "--estimator") is { } problem
            ? ValidationResult.Error(problem)
            : base.Validate();
}
