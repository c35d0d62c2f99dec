using LatentIndigo.Diffusion.Architecture;
using LatentIndigo.Diffusion.Import;
using Microsoft.Extensions.Logging;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Converts Stable Diffusion 1.x/2.x weights as the model hubs distribute them — a diffusers pipeline folder
/// (safetensors or <c>.bin</c>, fp32/fp16/bf16, the <c>fp16</c> variant) or a single-file checkpoint in the original
/// CompVis/LDM layout (<c>.safetensors</c>, <c>.ckpt</c>) — into the ONNX export folder the library
/// loads, in .NET, without Python. Tensors are converted and written one at a time; the output is written into a
/// temporary folder beside <c>outputFolder</c> and moved into place only when complete, so a failure or cancellation
/// leaves nothing behind.
/// </summary>
public static class StableDiffusionImport
{
    /// <summary>Converts <paramref name="source"/> into <paramref name="outputFolder"/> (fp32, prediction type from the source).</summary>
    /// <inheritdoc cref="Convert(string, string, StableDiffusionImportOptions, IProgress{StableDiffusionImportProgress}?, CancellationToken)"/>
    public static StableDiffusionImportResult Convert(string source, string outputFolder) =>
        Convert(source, outputFolder, new StableDiffusionImportOptions());

    /// <summary>Converts <paramref name="source"/> into <paramref name="outputFolder"/> with <paramref name="options"/>.</summary>
    /// <inheritdoc cref="Convert(string, string, StableDiffusionImportOptions, IProgress{StableDiffusionImportProgress}?, CancellationToken)"/>
    public static StableDiffusionImportResult Convert(string source, string outputFolder, StableDiffusionImportOptions options) =>
        Convert(source, outputFolder, options, null);

    /// <summary>
    /// Converts <paramref name="source"/> (a diffusers pipeline folder or a single-file checkpoint) into an export folder at
    /// <paramref name="outputFolder"/>, reporting progress per tensor.
    /// </summary>
    /// <param name="source">A diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/), or a
    /// single-file checkpoint in the original CompVis/LDM layout (<c>.safetensors</c> or <c>.ckpt</c>).</param>
    /// <param name="outputFolder">The export folder to create (refused if it exists, unless <see cref="StableDiffusionImportOptions.Force"/>).</param>
    /// <param name="options">Precision, prediction type, overwrite, configs, tokenizer, logger.</param>
    /// <param name="progress">Receives the parameters written so far; null for none.</param>
    /// <param name="cancellationToken">Stops between tensors; nothing is left behind.</param>
    /// <returns>Where the export is and what was decided.</returns>
    /// <exception cref="ModelImportException">The model is of a kind not imported (SDXL, SD 3, inpainting: named), its tensors
    /// do not fit the architecture (each named), or an SD 2.x source does not say its prediction type (pass it).</exception>
    /// <exception cref="LatentIndigoException">Bad options, a missing or damaged file, or an existing output folder without Force
    /// (the base of <see cref="ModelImportException"/>: catch it for every problem with the input).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the output folder was not created.</exception>
    public static StableDiffusionImportResult Convert(string source, string outputFolder, StableDiffusionImportOptions options,
        IProgress<StableDiffusionImportProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(outputFolder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputFolder));
        if ((Directory.Exists(output) || File.Exists(output)) && !options.Force)
        {
            throw new LatentIndigoException($"'{output}' already exists; choose another output folder, or replace it with Force (--force).");
        }
        using var input = Open(source, options);
        return Write(input, output, options, progress, cancellationToken);
    }

    /// <summary>
    /// Converts <paramref name="source"/> once into a cache folder and returns that folder; later calls with the same
    /// source content and settings return it at once. The cache is <see cref="StableDiffusionImportOptions.CacheFolder"/>,
    /// else <see cref="DefaultCacheFolder"/>; <see cref="StableDiffusionImportOptions.Force"/> converts again.
    /// </summary>
    /// <inheritdoc cref="Convert(string, string, StableDiffusionImportOptions, IProgress{StableDiffusionImportProgress}?, CancellationToken)"/>
    public static string ConvertCached(string source, StableDiffusionImportOptions? options = null,
        IProgress<StableDiffusionImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new StableDiffusionImportOptions();
        options.Validate();
        if (!IsImportSource(source))
        {
            throw new LatentIndigoException(Directory.Exists(source) || File.Exists(source)
                ? $"'{source}' is neither an ONNX export folder, a diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/) nor a single-file checkpoint (.safetensors, .ckpt)."
                : $"'{source}' does not exist.");
        }
        var entry = ImportCache.EntryFor(source, options, options.CacheFolder ?? DefaultCacheFolder);
        // An entry exists only complete: Convert moves it into place when done.
        if (!options.Force && File.Exists(Path.Combine(entry, "model_index.json")))
        {
            options.Logger?.LogInformation("import: reusing the conversion of '{Source}' in '{Entry}'", source, entry);
            return entry;
        }
        options.Logger?.LogInformation("import: converting '{Source}' into '{Entry}' (once; later loads reuse it)", source, entry);
        Convert(source, entry, options with { Force = true }, progress, cancellationToken);
        return entry;
    }

    /// <summary>
    /// Where <see cref="ConvertCached"/> keeps conversions by default: the folder named by the
    /// <c>LATENTINDIGO_IMPORT_CACHE</c> environment variable, else <c>LatentIndigo/imports</c> in the user's local
    /// application data folder (<c>~/.local/share</c> on Linux, <c>%LOCALAPPDATA%</c> on Windows).
    /// </summary>
    public static string DefaultCacheFolder => ImportCache.DefaultFolder;

    /// <summary>
    /// Whether <paramref name="path"/> is something <see cref="Convert(string, string)"/> reads: a diffusers pipeline
    /// folder, or a <c>.safetensors</c> / <c>.ckpt</c> / <c>.pt</c> / <c>.pth</c> / <c>.bin</c> file (read as a single-file checkpoint).
    /// </summary>
    public static bool IsImportSource(string path) =>
        DiffusersFolder.Is(path)
        || (File.Exists(path) && Path.GetExtension(path).ToLowerInvariant() is ".safetensors" or ".ckpt" or ".pt" or ".pth" or ".bin");

    private static SdImportSource Open(string source, StableDiffusionImportOptions options)
    {
        if (DiffusersFolder.Is(source))
        {
            return DiffusersFolder.Open(source, options);
        }
        if (File.Exists(source))
        {
            return SingleFileSource.Open(source, options);
        }
        if (Directory.Exists(source) && File.Exists(Path.Combine(source, "unet", "model.onnx")))
        {
            throw new LatentIndigoException($"'{source}' is already an ONNX export folder: load it directly, there is nothing to import.");
        }
        throw new LatentIndigoException(Directory.Exists(source) || File.Exists(source)
            ? $"'{source}' is not a diffusers pipeline folder (model_index.json with unet/, vae/, text_encoder/) nor a single-file checkpoint."
            : $"'{source}' does not exist.");
    }

    private static StableDiffusionImportResult Write(SdImportSource input, string output, StableDiffusionImportOptions options,
        IProgress<StableDiffusionImportProgress>? progress, CancellationToken cancellationToken)
    {
        var log = options.Logger;
        var a = input.Architecture;
        var notes = new List<string>(input.Notes) { $"architecture: {a.Describe()}" };
        var inconsistent = a.Inconsistencies().ToList();
        if (inconsistent.Count > 0)
        {
            throw new ModelImportException(input.Origin, $"its configuration does not describe one consistent {a.Family} model:", inconsistent);
        }

        // Every tensor of every component is checked against the architecture before anything is written.
        var problems = new List<string>();
        var unet = CheckpointWeights.Match(input.Unet, "unet", SdParameterCount.UnetParameters(a.Unet), problems);
        var vae = CheckpointWeights.Match(input.Vae, "vae",
            [.. SdParameterCount.VaeEncoderParameters(a.Vae), .. SdParameterCount.VaeDecoderParameters(a.Vae)], problems);
        var text = CheckpointWeights.Match(input.Text, "text_encoder", SdParameterCount.TextParameters(a.Text), problems);
        if (problems.Count > 0)
        {
            throw new ModelImportException(input.Origin, $"its tensors do not fit the architecture assumed ({a.Describe()}):", problems);
        }

        var prediction = ChoosePrediction(input, options, notes);
        bool fp16 = options.Precision == ModelPrecision.Float16;
        long total = unet.ParameterCount + vae.ParameterCount + text.ParameterCount;
        long done = 0;
        string model = "unet";
        void Track(long count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            done += count;
            progress?.Report(new StableDiffusionImportProgress(model, done, total));
        }
        unet.TensorRead = vae.TensorRead = text.TensorRead = Track;

        var parent = Path.GetDirectoryName(output) ?? ".";
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(output)}.importing-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temp);
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new StableDiffusionImportProgress(model, 0, total));
            ImportedFolderWriter.WriteModels(temp, a, unet, vae, text, fp16, m => model = m);
            ImportedFolderWriter.WriteConfigs(temp, a, input.Origin, fp16);
            ImportedFolderWriter.WriteScheduler(temp, input.SchedulerConfigJson, prediction);
            if ((options.TokenizerFolder ?? input.TokenizerFolder) is { } tokenizer)
            {
                ImportedFolderWriter.CopyTokenizer(tokenizer, temp);
            }
            else
            {
                ImportedFolderWriter.EmptyPromptTokenizer(temp, a);
                notes.Add("no tokenizer in the source and none given: wrote one that supports only the empty prompt (restoration's default); "
                    + "a prompt needs a CLIP tokenizer folder (--tokenizer / TokenizerFolder).");
            }
            cancellationToken.ThrowIfCancellationRequested();
            MoveIntoPlace(temp, output, options.Force);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        foreach (var note in notes)
        {
            log?.LogInformation("import: {Note}", note);
        }
        return new StableDiffusionImportResult(output, prediction, notes);
    }

    // The prediction type: the caller's, else the source's; an SD 1.x model without one is epsilon (all SD 1.x are),
    // an SD 2.x model without one is refused (768-pixel models are v_prediction, 512-pixel base models epsilon).
    private static PredictionType ChoosePrediction(SdImportSource input, StableDiffusionImportOptions options, List<string> notes)
    {
        if (options.PredictionType is { } chosen)
        {
            if (input.PredictionType is { } stated && stated != chosen)
            {
                notes.Add($"prediction type {chosen} as requested (the source says {stated})");
            }
            return chosen;
        }
        if (input.PredictionType is { } known)
        {
            notes.Add($"prediction type {known} (from the source)");
            return known;
        }
        if (input.Architecture.Family == "SD 1.x")
        {
            notes.Add("prediction type epsilon (every SD 1.x model is)");
            return PredictionType.Epsilon;
        }
        throw new ModelImportException(input.Origin,
            $"'{input.Origin}' does not say what its UNet predicts. Pass the prediction type (--prediction-type / PredictionType): "
            + "768-pixel SD 2.x models (e.g. v2-1_768) are v_prediction, 512-pixel base models (e.g. v2-1_512, 2.1-base) epsilon.");
    }

    // Into place: a rename in the same parent folder. With Force, the old folder is renamed aside first and deleted
    // after, so a failure never leaves neither.
    private static void MoveIntoPlace(string temp, string output, bool force)
    {
        string? aside = null;
        if (Directory.Exists(output) || File.Exists(output))
        {
            if (!force)
            {
                throw new LatentIndigoException($"'{output}' appeared while importing; nothing was replaced. Use Force (--force) to replace it.");
            }
            aside = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.replaced-{Guid.NewGuid():N}");
            if (Directory.Exists(output))
            {
                Directory.Move(output, aside);
            }
            else
            {
                File.Move(output, aside);
            }
        }
        Directory.Move(temp, output);
        if (aside is not null)
        {
            TryDelete(aside);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temporary folder is named so the user can tell what it is.
        }
    }
}

/// <summary>What <see cref="StableDiffusionImport"/> wrote.</summary>
public sealed class StableDiffusionImportResult
{
    internal StableDiffusionImportResult(string outputFolder, PredictionType predictionType, IReadOnlyList<string> notes)
    {
        OutputFolder = outputFolder;
        PredictionType = predictionType;
        Notes = notes;
    }

    /// <summary>The export folder (full path).</summary>
    public string OutputFolder { get; }

    /// <summary>The prediction type written into the scheduler config.</summary>
    public PredictionType PredictionType { get; }

    /// <summary>What was found, inferred and chosen, one line each.</summary>
    public IReadOnlyList<string> Notes { get; }
}
