using System.ComponentModel;
using LatentIndigo.Diffusion;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo import-sd &lt;source&gt; -o &lt;folder&gt;</c>: converts a diffusers pipeline folder or a single-file
/// Stable Diffusion 1.x/2.x checkpoint into the ONNX export folder the library loads, in .NET (no Python).
/// </summary>
public sealed class ImportSdCommand : Command<ImportSdCommand.Settings>
{
    /// <summary>Arguments of <c>import-sd</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>The diffusers folder or single file.</summary>
        [CommandArgument(0, "<source>")]
        [Description("A diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/) or a single-file checkpoint (.safetensors, .ckpt).")]
        public string Source { get; init; } = "";

        /// <summary>The export folder to write.</summary>
        [CommandOption("-o|--output <FOLDER>")]
        [Description("The ONNX export folder to create (then: restore --model <FOLDER>, sd-check <FOLDER>).")]
        public string? Output { get; init; }

        /// <summary>fp32 or fp16.</summary>
        [CommandOption("--precision <PRECISION>")]
        [Description("fp32 (default) or fp16: weights and model inputs/outputs in half precision (half the size; computed in float32).")]
        [DefaultValue("fp32")]
        public string Precision { get; init; } = "fp32";

        /// <summary>epsilon or v_prediction.</summary>
        [CommandOption("--prediction-type <TYPE>")]
        [Description("epsilon or v_prediction. Needed for SD 2.x single files without --original-config: 768-pixel SD 2.x models are v_prediction, 512-pixel base models epsilon.")]
        public string? PredictionType { get; init; }

        /// <summary>Replace an existing output folder.</summary>
        [CommandOption("--force")]
        [Description("Replace the output folder if it exists.")]
        public bool Force { get; init; }

        /// <summary>Use the EMA weights.</summary>
        [CommandOption("--ema")]
        [Description("Single files with trained and EMA weights: use the EMA ones (default: the trained ones, as diffusers does).")]
        public bool Ema { get; init; }

        /// <summary>The LDM inference YAML.</summary>
        [CommandOption("--original-config <YAML>")]
        [Description("A single file's original LDM inference YAML (e.g. v1-inference.yaml, v2-inference-v.yaml): heads, groups, prediction type.")]
        public string? OriginalConfig { get; init; }

        /// <summary>A diffusers folder describing the architecture.</summary>
        [CommandOption("--config <FOLDER>")]
        [Description("A diffusers pipeline folder whose model_index.json and component config.json files describe a single file's architecture (its weights are not used).")]
        public string? Config { get; init; }

        /// <summary>A tokenizer folder.</summary>
        [CommandOption("--tokenizer <FOLDER>")]
        [Description("A CLIP tokenizer folder (vocab.json, merges.txt) to copy into the export; single files carry none (without it only the empty prompt works).")]
        public string? Tokenizer { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Output is null)
            {
                return ValidationResult.Error("Give the export folder to write with -o <folder>.");
            }
            if (Precision is not ("fp32" or "fp16"))
            {
                return ValidationResult.Error($"--precision must be fp32 or fp16, not '{Precision}'.");
            }
            if (PredictionType is not (null or "epsilon" or "v_prediction"))
            {
                return ValidationResult.Error($"--prediction-type must be epsilon or v_prediction, not '{PredictionType}'.");
            }
            return ValidationResult.Success();
        }

        /// <summary>The library's options for these arguments.</summary>
        public StableDiffusionImportOptions ImportOptions() => new()
        {
            Precision = Precision == "fp16" ? ModelPrecision.Float16 : ModelPrecision.Float32,
            PredictionType = PredictionType is null ? null : new PredictionType(PredictionType),
            Force = Force,
            UseEma = Ema,
            OriginalConfigPath = OriginalConfig,
            ConfigFolder = Config,
            TokenizerFolder = Tokenizer,
            Logger = new CliNoteLogger(CliApp.Console),
        };
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var console = CliApp.Console;
        var result = WithProgress(console, progress =>
            StableDiffusionImport.Convert(settings.Source, settings.Output!, settings.ImportOptions(), progress, cancellationToken));
        foreach (var note in result.Notes)
        {
            console.MarkupLineInterpolated($"[grey]note:[/] {note}");
        }
        console.MarkupLineInterpolated($"[green]OK[/]: wrote {result.OutputFolder} (prediction type {result.PredictionType}). Check it with: latent-indigo sd-check {result.OutputFolder}");
        return 0;
    }

    /// <summary>
    /// The export folder for <c>--model</c>: an export folder as it is; a diffusers folder or single file converted
    /// once into the import cache (with a progress bar) and reused.
    /// </summary>
    public static string? ResolveModel(string? model, CancellationToken cancellationToken = default)
    {
        if (model is null || !StableDiffusionImport.IsImportSource(model))
        {
            return model;
        }
        var console = CliApp.Console;
        var options = new StableDiffusionImportOptions { Logger = new CliNoteLogger(console) };
        console.MarkupLineInterpolated($"'{model}' is not an ONNX export: converting it once into the import cache ({StableDiffusionImport.DefaultCacheFolder}; set LATENTINDIGO_IMPORT_CACHE to move it).");
        try
        {
            return WithProgress(console, progress => StableDiffusionImport.ConvertCached(model, options, progress, cancellationToken));
        }
        catch (ModelImportException e)
        {
            // --model converts with the defaults; what the source does not say (an SD 2.x single file's prediction type,
            // its heads through --original-config, the EMA weights, a tokenizer) is given to import-sd.
            throw new CliUserException($"{e.Message}{Environment.NewLine}--model converts with the defaults; to choose, convert it first: "
                + $"latent-indigo import-sd \"{model}\" -o <folder> [--prediction-type epsilon|v_prediction] [--original-config <yaml>] [--ema] [--tokenizer <folder>], then pass --model <folder>.");
        }
    }

    private static T WithProgress<T>(IAnsiConsole console, Func<IProgress<StableDiffusionImportProgress>, T> run) =>
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("import", maxValue: 1);
                var result = run(new Progress(task));
                task.Value = 1;
                return result;
            });

    // Reported synchronously from the converting thread: the bar follows each tensor.
    private sealed class Progress(ProgressTask task) : IProgress<StableDiffusionImportProgress>
    {
        public void Report(StableDiffusionImportProgress value)
        {
            task.Description = Markup.Escape($"import {value.Model}");
            task.Value = value.Fraction;
        }
    }
}
