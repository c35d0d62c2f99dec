using System.ComponentModel;
using LatentIndigo.Diffusion;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands;

/// <summary>The options of commands that load diffusion models: where they run.</summary>
public abstract class ProviderSettings : CommandSettings
{
    /// <summary>cpu or cuda.</summary>
    [CommandOption("--provider <NAME>")]
    [Description("Where the diffusion models run: cpu (default) or cuda (the GPU build: Microsoft.ML.OnnxRuntime.Gpu, CUDA 13, cuDNN 9). The INNs follow them.")]
    [DefaultValue("cpu")]
    public string Provider { get; init; } = "cpu";

    /// <summary>Run on the CPU when CUDA cannot load.</summary>
    [CommandOption("--allow-cpu-fallback")]
    [Description("With --provider cuda: warn and run on the CPU when CUDA cannot load, instead of failing.")]
    public bool AllowCpuFallback { get; init; }

    /// <summary>The model options these settings ask for.</summary>
    internal DiffusionModelOptions ModelOptions() => new()
    {
        ExecutionProvider = Provider == "cuda" ? ExecutionProviderKind.Cuda : ExecutionProviderKind.Cpu,
        AllowCpuFallback = AllowCpuFallback,
    };

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        return Provider is "cpu" or "cuda"
            ? ValidationResult.Success()
            : ValidationResult.Error($"--provider must be cpu or cuda; got '{Provider}'.");
    }
}
