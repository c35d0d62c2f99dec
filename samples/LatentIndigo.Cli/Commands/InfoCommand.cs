using System.ComponentModel;
using Microsoft.ML.OnnxRuntime;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace LatentIndigo.Cli.Commands;

/// <summary><c>latent-indigo info</c>: what this build runs on.</summary>
public sealed class InfoCommand : Command<InfoCommand.Settings>
{
    /// <summary>No options.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>Print machine-readable key=value lines instead of a table.</summary>
        [CommandOption("--plain")]
        [Description("Print key=value lines instead of a table.")]
        public bool Plain { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var rows = new List<(string Key, string Value)>
        {
            ("LatentIndigo.Core", LibraryInfo.Version),
            ("TorchSharp", LibraryInfo.TorchSharpVersion),
            ("libtorch CUDA available", torch.cuda.is_available().ToString()),
            ("torch threads", torch.get_num_threads().ToString()),
            ("ONNX Runtime (managed)", LibraryInfo.OnnxRuntimeVersion),
            ("ONNX Runtime providers", string.Join(", ", OrtEnv.Instance().GetAvailableProviders())),
            ("processor count", Environment.ProcessorCount.ToString()),
            (".NET", Environment.Version.ToString()),
            ("OS", System.Runtime.InteropServices.RuntimeInformation.OSDescription),
        };
        if (settings.Plain)
        {
            foreach (var (key, value) in rows)
            {
                CliApp.Console.WriteLine($"{key}={value}");
            }
            return 0;
        }
        var table = new Table().AddColumn("component").AddColumn("value");
        foreach (var (key, value) in rows)
        {
            table.AddRow(Markup.Escape(key), Markup.Escape(value));
        }
        CliApp.Console.Write(table);
        return 0;
    }
}
