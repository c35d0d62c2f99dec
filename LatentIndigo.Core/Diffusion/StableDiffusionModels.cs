using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Diffusion;

/// <summary>
/// A frozen Stable Diffusion 1.x / 2.x ONNX export (diffusers script or optimum layout) loaded into ONNX Runtime:
/// UNet, VAE encoder and decoder, CLIP text encoder and tokenizer, and the scheduler config.
/// </summary>
/// <remarks>
/// <para><see cref="Load"/> validates the whole folder before returning and throws one <see cref="ModelFolderException"/>
/// listing every problem. Names, ranks and element types come from the session metadata.</para>
/// <para>Threading: direct calls on <see cref="Vae"/> (and <see cref="Check"/>) share one set of bound buffers per
/// model, so each runs one call at a time (a concurrent call on the same model throws
/// <see cref="InvalidOperationException"/>). The restoration pipeline gives every concurrent restore
/// buffers of its own over the same sessions, so one model set serves many restores. <see cref="Dispose"/> terminates
/// in-flight runs and waits for them before releasing the sessions.</para>
/// <para>Ownership: <see cref="Vae"/> results are new tensors, the caller's. The model wrappers, whose outputs are
/// buffers the model set reuses, are internal to the library.</para>
/// </remarks>
public sealed class StableDiffusionModels : IDisposable
{
    private readonly ModelSession[] sessions;
    private readonly Dictionary<string, Tensor> promptCache = new(StringComparer.Ordinal);
    private readonly object promptLock = new();
    private readonly ILogger logger;
    private int textEncoderRuns;
    private bool disposed;

    private StableDiffusionModels(string folder, ModelSession[] sessions, UnetModel unet, VaeEncoderModel encoder,
        VaeDecoderModel decoder, TextEncoderModel text, ClipTokenizer tokenizer, SchedulerConfig scheduler,
        double scalingFactor, bool scalingFactorFromConfig, ExecutionProviderKind provider, bool isStandIn, ILogger logger,
        int defaultLatentTileSize, IReadOnlyList<string> loadNotes)
    {
        DefaultLatentTileSize = defaultLatentTileSize;
        LoadNotes = loadNotes;
        Folder = folder;
        this.sessions = sessions;
        Unet = unet;
        VaeEncoder = encoder;
        VaeDecoder = decoder;
        TextEncoder = text;
        Tokenizer = tokenizer;
        this.scheduler = scheduler;
        ScalingFactor = scalingFactor;
        ScalingFactorFromConfig = scalingFactorFromConfig;
        ExecutionProvider = provider;
        IsStandIn = isStandIn;
        Vae = new Vae(encoder, decoder, scalingFactor);
        this.logger = logger;
    }

    private readonly SchedulerConfig scheduler;

    /// <summary>The export folder.</summary>
    public string Folder { get; }

    /// <summary>The UNet.</summary>
    internal UnetModel Unet { get; }

    /// <summary>The raw VAE encoder (most callers use <see cref="Vae"/>).</summary>
    internal VaeEncoderModel VaeEncoder { get; }

    /// <summary>The raw VAE decoder (most callers use <see cref="Vae"/>).</summary>
    internal VaeDecoderModel VaeDecoder { get; }

    /// <summary>Scaled, optionally tiled VAE encode/decode of [0, 1] images.</summary>
    public Vae Vae { get; }

    /// <summary>The CLIP text encoder.</summary>
    internal TextEncoderModel TextEncoder { get; }

    /// <summary>The CLIP tokenizer.</summary>
    internal ClipTokenizer Tokenizer { get; }

    /// <summary>VAE latent scaling factor (from the VAE config, else 0.18215).</summary>
    public double ScalingFactor { get; }

    /// <summary>False when <see cref="ScalingFactor"/> is the 0.18215 default because no VAE config stated one.</summary>
    internal bool ScalingFactorFromConfig { get; }

    /// <summary>Latent channels C (read from the model metadata or configs).</summary>
    public int LatentChannels => Unet.LatentChannels;

    /// <summary>Width of the text embeddings.</summary>
    internal int HiddenSize => TextEncoder.HiddenSize ?? Unet.HiddenSize ?? 0;

    /// <summary>float16 or float32 UNet.</summary>
    public ModelPrecision Precision => Unet.SampleElementType == TensorElementType.Float16 ? ModelPrecision.Float16 : ModelPrecision.Float32;

    /// <summary>Which VAE encoder output the export has.</summary>
    internal VaeEncoderOutputKind EncoderOutput => VaeEncoder.OutputKind;

    /// <summary>ε or v prediction, from the scheduler config.</summary>
    public PredictionType PredictionType => scheduler.PredictionType;

    /// <summary>A copy of <c>scheduler/scheduler_config.json</c>.</summary>
    public SchedulerConfig SchedulerConfig => scheduler.Clone();

    /// <summary>The provider the sessions run on (CPU after an allowed fallback).</summary>
    public ExecutionProviderKind ExecutionProvider { get; }

    /// <summary>
    /// Where the models' bound input and output buffers live, and so where the UNet's output and the restore's working
    /// tensors are: the CUDA device with the CUDA provider (and a CUDA build of libtorch), otherwise the CPU. Pass
    /// <see cref="Vae"/> inputs on this device to avoid copies.
    /// </summary>
    public Device Device => sessions[0].Device;

    /// <summary>True for LatentIndigo's stand-in models (tests and demos): their outputs are not real restorations.</summary>
    public bool IsStandIn { get; }

    /// <summary>
    /// The latent tile edge this export works at: the UNet's static size when it declares one, else
    /// <c>unet/config.json</c> <c>sample_size</c> (SD 2.x 768-v: 96), else 64.
    /// </summary>
    public int DefaultLatentTileSize { get; }

    /// <summary>
    /// What loading decided about this export, one sentence each (also logged, as warnings where a setting of the
    /// export was overridden or constrains use): scheduler settings forced to diffusers' SD pipeline values, an
    /// encoder sampling head removed or kept, static input sizes, the default tile size and where it came from,
    /// mixed precision, unreadable optional configs.
    /// </summary>
    public IReadOnlyList<string> LoadNotes { get; }

    /// <summary>Number of text-encoder runs so far (cached prompts do not run it again).</summary>
    internal int TextEncoderRuns => Volatile.Read(ref textEncoderRuns);

    /// <summary>
    /// Loads and validates an export folder. Throws <see cref="ModelFolderException"/> listing every problem,
    /// <see cref="ExecutionProviderUnavailableException"/> when CUDA was requested but cannot load (unless
    /// <see cref="DiffusionModelOptions.AllowCpuFallback"/>), and logs what it found at Information level.
    /// </summary>
    public static StableDiffusionModels Load(string folder, DiffusionModelOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        options ??= new DiffusionModelOptions();
        options.Validate();
        logger ??= NullLogger.Instance;
        if (!Directory.Exists(folder))
        {
            throw new LatentIndigoException($"Model folder '{folder}' does not exist. Point to a Stable Diffusion ONNX export (diffusers or optimum layout).");
        }
        folder = Path.GetFullPath(folder);
        var problems = new List<string>();
        var notes = new ExportNotes();
        foreach (var file in new[] { "tokenizer/vocab.json", "tokenizer/merges.txt" })
        {
            if (!File.Exists(Path.Combine(folder, file)))
            {
                problems.Add($"{file} is missing (the CLIP tokenizer files of the export).");
            }
        }
        SchedulerConfig? scheduler = null;
        var schedulerPath = Path.Combine(folder, "scheduler", "scheduler_config.json");
        if (!File.Exists(schedulerPath))
        {
            problems.Add("scheduler/scheduler_config.json is missing.");
        }
        else
        {
            try
            {
                scheduler = SchedulerConfig.Parse(File.ReadAllText(schedulerPath));
                SchedulerPipelineRules.Apply(scheduler, notes);
            }
            catch (LatentIndigoException e)
            {
                problems.Add($"scheduler/scheduler_config.json: {e.Message}");
            }
        }
        var scaling = ModelFolderInspector.ReadScalingFactor(folder, problems);
        var modelIndex = ModelFolderInspector.ReadOptionalJson(folder, "model_index.json", notes);
        var unetConfig = ModelFolderInspector.ReadOptionalJson(folder, "unet/config.json", notes);
        EncoderSampling.Result? sampling = null;

        var sessions = new Dictionary<DiffusionModelKind, ModelSession>();
        var provider = options.ExecutionProvider;
        try
        {
            foreach (var kind in Enum.GetValues<DiffusionModelKind>())
            {
                var rel = $"{ModelFolderInspector.Subfolder(kind)}/model.onnx";
                var path = Path.Combine(folder, rel);
                if (!File.Exists(path))
                {
                    problems.Add($"{rel} is missing.");
                    continue;
                }
                try
                {
                    sessions[kind] = ModelSession.Create(kind, path, options, ref provider, logger);
                    if (kind == DiffusionModelKind.VaeEncoder && sessions[kind].Outputs.ContainsKey("latent_sample"))
                    {
                        sampling = EncoderSampling.Inspect(path, rewrite: !options.KeepEncoderSampling);
                        if (sampling.DeterministicModel is { } deterministic)
                        {
                            sessions[kind].Dispose();
                            sessions.Remove(kind);
                            sessions[kind] = ModelSession.Create(kind, path, options, ref provider, logger, deterministic);
                        }
                    }
                }
                catch (OnnxRuntimeException e) when (e.Message.Contains("Could not find an implementation for", StringComparison.Ordinal))
                {
                    problems.Add($"{rel} uses an operator that ONNX Runtime's {provider} provider does not implement: an export optimised for CUDA or DirectML " +
                        "(onnxruntime's optimize_pipeline.py --float16, Olive) with com.microsoft fused operators. Run it with the CUDA provider, or use an unoptimised export. " +
                        $"ONNX Runtime said: {ModelSession.OneLine(e.Message)}.");
                }
                catch (OnnxRuntimeException e)
                {
                    problems.Add($"{rel} could not be loaded by ONNX Runtime: {ModelSession.OneLine(e.Message)}.");
                }
                catch (Google.Protobuf.InvalidProtocolBufferException e)
                {
                    problems.Add($"{rel} could not be read as an ONNX model to check its sampling head ({e.Message}).");
                }
            }
            var kindProblems = new List<string>();
            PipelineKindCheck.Check(modelIndex, scheduler, sessions.GetValueOrDefault(DiffusionModelKind.Unet),
                ModelFolderInspector.Int(unetConfig, "in_channels"), kindProblems, notes);
            if (kindProblems.Count > 0)
            {
                // The export is of another pipeline: its own message, not the signature mismatches that follow from it.
                throw new ModelFolderException(folder, [.. kindProblems, .. problems]);
            }
            ExportGeometry.CheckDownscale(folder, sessions.GetValueOrDefault(DiffusionModelKind.VaeEncoder),
                sessions.GetValueOrDefault(DiffusionModelKind.VaeDecoder), problems, notes);
            var models = BuildModels(folder, sessions, problems, sampling is { NoiseNodes: > 0 } found ? (found.DeterministicModel is null, found.DeterministicModel is not null) : (false, false));
            ClipTokenizer? tokenizer = null;
            if (problems.Count == 0)
            {
                try
                {
                    tokenizer = ClipTokenizer.Load(Path.Combine(folder, "tokenizer"));
                }
                catch (LatentIndigoException e)
                {
                    problems.Add($"tokenizer: {e.Message}");
                }
            }
            if (problems.Count > 0 || models is null || tokenizer is null || scheduler is null)
            {
                throw new ModelFolderException(folder, problems);
            }
            int tile = ExportGeometry.DefaultLatentTile(sessions[DiffusionModelKind.Unet], unetConfig, notes);
            ExportGeometry.NoteStaticShapes(sessions.Values, notes);
            NoteSampling(sampling, options, notes);
            NotePrecision(sessions.Values, notes);
            var result = new StableDiffusionModels(folder, sessions.Values.ToArray(), models.Value.Unet, models.Value.Encoder,
                models.Value.Decoder, models.Value.Text, tokenizer, scheduler, scaling ?? ModelFolderInspector.DefaultScalingFactor,
                scaling is not null, provider, ModelFolderInspector.IsStandIn(folder), logger, tile, notes.Items.Select(n => n.Text).ToArray());
            result.LogSummary(scheduler);
            notes.Log(logger);
            return result;
        }
        catch
        {
            foreach (var s in sessions.Values)
            {
                s.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Text conditioning for a prompt (default: empty, as LatentINDIGO restores without text). With
    /// <paramref name="guidanceScale"/> &gt; 1 the negative prompt (default empty) is encoded too for classifier-free
    /// guidance. Each distinct prompt runs the text encoder once; later calls reuse the cached embeddings, which
    /// belong to this model set.
    /// </summary>
    internal TextConditioning EncodePrompt(string prompt = "", string? negativePrompt = null, double guidanceScale = 1.0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (!(guidanceScale >= 0) || double.IsInfinity(guidanceScale))
        {
            throw new ArgumentOutOfRangeException(nameof(guidanceScale), guidanceScale, "The guidance scale must be a finite number >= 0 (1: no guidance).");
        }
        var cond = Embed(prompt, cancellationToken);
        if (guidanceScale > 1)
        {
            var negative = negativePrompt ?? string.Empty;
            return new TextConditioning(prompt, cond, negative, Embed(negative, cancellationToken), guidanceScale);
        }
        return new TextConditioning(prompt, cond, null, null, 1.0);
    }

    /// <summary>
    /// A handle with buffers of its own over this model set's sessions, for one concurrent caller (a restore). The
    /// sessions are shared: ONNX Runtime runs calls from several workers at once.
    /// </summary>
    internal ModelWorker CreateWorker()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new ModelWorker(Unet.WithOwnBuffers(), Vae.WithOwnBuffers());
    }

    /// <summary>
    /// Checks the export: encodes an empty prompt, round-trips a <paramref name="imageSize"/>² colour ramp through the
    /// VAE and runs a few UNet steps and one DDIM step, timing each call. For diagnostics (the CLI's <c>sd-check</c>);
    /// the result holds no tensors.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="imageSize"/> is not a positive multiple of 8.</exception>
    public ModelCheckResult Check(int imageSize = 64, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return ModelCheck.Run(this, imageSize, cancellationToken);
    }

    /// <summary>A new sampler configured from the export's scheduler config (dispose it after the run).</summary>
    public ILatentSampler CreateSampler(SamplerKind kind = SamplerKind.Ddim) => kind switch
    {
        SamplerKind.Ddim => new DdimSampler(scheduler),
        SamplerKind.Ddpm => new DdpmSampler(scheduler),
        SamplerKind.EulerAncestral => new EulerAncestralSampler(scheduler),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler."),
    };

    /// <summary>Terminates in-flight runs, waits for them, then frees sessions, bound buffers and cached embeddings.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        foreach (var s in sessions)
        {
            s.Dispose();
        }
        Unet.DisposeBuffers();
        VaeEncoder.DisposeBuffers();
        VaeDecoder.DisposeBuffers();
        TextEncoder.DisposeBuffers();
        lock (promptLock)
        {
            foreach (var t in promptCache.Values)
            {
                t.Dispose();
            }
            promptCache.Clear();
        }
    }

    private Tensor Embed(string prompt, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        lock (promptLock)
        {
            if (promptCache.TryGetValue(prompt, out var cached))
            {
                return cached;
            }
            var embedding = TextEncoder.Encode(Tokenizer.Encode(prompt), cancellationToken).DetachFromDisposeScope();
            Interlocked.Increment(ref textEncoderRuns);
            promptCache[prompt] = embedding;
            return embedding;
        }
    }

    private static void NoteSampling(EncoderSampling.Result? sampling, DiffusionModelOptions options, ExportNotes notes)
    {
        if (sampling is null)
        {
            return;
        }
        if (sampling.NoiseNodes > 0 && !options.KeepEncoderSampling)
        {
            notes.Info($"vae_encoder samples latent_sample with an unseeded RandomNormalLike ({sampling.NoiseNodes} node(s)); LatentIndigo zeroed that noise, so encodes return the posterior mean and runs are reproducible (DiffusionModelOptions.KeepEncoderSampling keeps the export's sampling).");
        }
        else if (sampling.NoiseNodes > 0)
        {
            notes.Warn($"vae_encoder samples latent_sample with an unseeded RandomNormalLike, kept as requested (KeepEncoderSampling): every encode draws new noise, so a seed does not reproduce a run.");
        }
        if (sampling.OtherRandomNodes.Count > 0)
        {
            notes.Warn($"vae_encoder has random operators LatentIndigo does not rewrite ({string.Join(", ", sampling.OtherRandomNodes.Distinct())}): its encodes may differ from run to run.");
        }
    }

    private static void NotePrecision(IEnumerable<ModelSession> sessions, ExportNotes notes)
    {
        var types = sessions.Select(s => (s.Name, Type: s.Inputs.Values.Concat(s.Outputs.Values)
            .Where(m => m.IsTensor && m.ElementDataType is TensorElementType.Float or TensorElementType.Float16)
            .Select(m => m.ElementDataType).FirstOrDefault(TensorElementType.Float))).ToList();
        if (types.Select(t => t.Type).Distinct().Count() > 1)
        {
            notes.Info("Mixed precision folder: " + string.Join(", ", types.Select(t => $"{t.Name} {SignatureChecker.TypeName(t.Type)}")) +
                "; each model runs in its own precision (LatentIndigo converts at the boundaries).");
        }
    }

    private static (UnetModel Unet, VaeEncoderModel Encoder, VaeDecoderModel Decoder, TextEncoderModel Text)? BuildModels(
        string folder, Dictionary<DiffusionModelKind, ModelSession> sessions, List<string> problems, (bool Samples, bool Removed) encoderSampling)
    {
        var channelSources = new List<(string Source, int Channels)>();
        UnetParts? unet = null;
        EncoderParts? encoder = null;
        DecoderParts? decoder = null;
        TextParts? text = null;

        if (sessions.TryGetValue(DiffusionModelKind.Unet, out var us))
        {
            var c = new SignatureChecker(us, problems);
            var sample = c.Input("sample", [4], "rank 4 [batch, channels, height, width]", TensorElementType.Float, TensorElementType.Float16);
            var t = c.Input("timestep", [0, 1], "rank 0 or rank 1 [batch]", TensorElementType.Float, TensorElementType.Float16, TensorElementType.Int64, TensorElementType.Int32);
            var ehs = c.Input("encoder_hidden_states", [3], "rank 3 [batch, sequence, hidden]", TensorElementType.Float, TensorElementType.Float16);
            c.NoOtherInputs("sample", "timestep", "encoder_hidden_states");
            var o = c.Output("out_sample", [4], "rank 4 [batch, channels, height, width]", TensorElementType.Float, TensorElementType.Float16);
            if (sample is not null && t is not null && ehs is not null && o is not null)
            {
                unet = new UnetParts(us, sample.ElementDataType, t.ElementDataType, t.Dimensions.Length,
                    t.Dimensions.Length == 1 ? SignatureChecker.StaticDim(t, 0) : null, ehs.ElementDataType,
                    SignatureChecker.StaticDim(ehs, 2), o.ElementDataType);
                AddChannels(channelSources, "unet sample", SignatureChecker.StaticDim(sample, 1));
                AddChannels(channelSources, "unet out_sample", SignatureChecker.StaticDim(o, 1));
            }
        }
        AddChannels(channelSources, "unet/config.json in_channels", ModelFolderInspector.ReadConfigInt(folder, "unet/config.json", "in_channels"));

        if (sessions.TryGetValue(DiffusionModelKind.VaeEncoder, out var es))
        {
            var c = new SignatureChecker(es, problems);
            var x = c.Input("sample", [4], "rank 4 [batch, 3, height, width]", TensorElementType.Float, TensorElementType.Float16);
            if (x is not null && SignatureChecker.StaticDim(x, 1) is { } ch && ch != 3)
            {
                c.Problem($"input 'sample' has {ch} channels; expected 3 (RGB).");
                x = null;
            }
            c.NoOtherInputs("sample");
            var output = c.OneOfOutputs(["latent_sample", "latent_parameters"], [4], "rank 4 [batch, channels, height, width]", TensorElementType.Float, TensorElementType.Float16);
            if (x is not null && output is { } op)
            {
                var kind = op.Name == "latent_parameters" ? VaeEncoderOutputKind.LatentParameters : VaeEncoderOutputKind.LatentSample;
                int? n = SignatureChecker.StaticDim(op.Meta, 1);
                if (kind == VaeEncoderOutputKind.LatentParameters && n is { } k && k % 2 != 0)
                {
                    c.Problem($"output 'latent_parameters' has {k} channels; expected an even number (mean, then log-variance).");
                }
                else
                {
                    int? latent = kind == VaeEncoderOutputKind.LatentParameters ? n / 2 : n;
                    AddChannels(channelSources, $"vae_encoder {op.Name}", latent);
                    encoder = new EncoderParts(es, kind, op.Name, x.ElementDataType, op.Meta.ElementDataType);
                }
            }
        }

        if (sessions.TryGetValue(DiffusionModelKind.VaeDecoder, out var ds))
        {
            var c = new SignatureChecker(ds, problems);
            var z = c.Input("latent_sample", [4], "rank 4 [batch, channels, height, width]", TensorElementType.Float, TensorElementType.Float16);
            c.NoOtherInputs("latent_sample");
            var y = c.Output("sample", [4], "rank 4 [batch, 3, height, width]", TensorElementType.Float, TensorElementType.Float16);
            if (z is not null && y is not null)
            {
                AddChannels(channelSources, "vae_decoder latent_sample", SignatureChecker.StaticDim(z, 1));
                decoder = new DecoderParts(ds, z.ElementDataType, y.ElementDataType);
            }
        }
        AddChannels(channelSources, "vae config latent_channels",
            ModelFolderInspector.ReadConfigInt(folder, "vae_decoder/config.json", "latent_channels"));

        if (sessions.TryGetValue(DiffusionModelKind.TextEncoder, out var ts))
        {
            var c = new SignatureChecker(ts, problems);
            var ids = c.Input("input_ids", [2], "rank 2 [batch, sequence]", TensorElementType.Int32, TensorElementType.Int64);
            c.NoOtherInputs("input_ids");
            var hs = c.Output("last_hidden_state", [3], "rank 3 [batch, sequence, hidden]", TensorElementType.Float, TensorElementType.Float16);
            if (ids is not null && hs is not null)
            {
                text = new TextParts(ts, ids.ElementDataType, hs.ElementDataType, SignatureChecker.StaticDim(hs, 2));
            }
        }

        int latentChannels = 0;
        var distinct = channelSources.Select(s => s.Channels).Distinct().ToArray();
        if (distinct.Length > 1)
        {
            problems.Add("The latent channel counts disagree: " + string.Join(", ", channelSources.Select(s => $"{s.Source} {s.Channels}")) + ".");
        }
        else if (distinct.Length == 0)
        {
            if (unet is not null && decoder is not null)
            {
                problems.Add("The latent channel count cannot be determined: the UNet and VAE declare it symbolically and no config.json states it.");
            }
        }
        else
        {
            latentChannels = distinct[0];
        }
        if (unet?.HiddenSize is { } uh && text?.HiddenSize is { } th && uh != th)
        {
            problems.Add($"The text encoder's last_hidden_state width {th} differs from the UNet's encoder_hidden_states width {uh}.");
        }
        if (problems.Count > 0 || unet is null || encoder is null || decoder is null || text is null)
        {
            return null;
        }
        var unetSample = unet.Session.Inputs["sample"];
        var unetText = unet.Session.Inputs["encoder_hidden_states"];
        return (
            new UnetModel(unet.Session, latentChannels, unet.Sample, unet.Timestep, unet.TimestepRank, unet.TimestepLength, unet.Hidden, unet.HiddenSize ?? text.HiddenSize, unet.Output)
            {
                StaticSizes = unet.Session.StaticInputs is { } shapes
                    ? new UnetModel.StaticUnetSizes(StaticShapes.Dim(unetSample, 0), StaticShapes.Dim(unetSample, 2), StaticShapes.Dim(unetSample, 3), StaticShapes.Dim(unetText, 1), shapes)
                    : null,
            },
            new VaeEncoderModel(encoder.Session, encoder.Kind, encoder.OutputName, latentChannels, encoder.Input, encoder.Output)
            {
                SamplesNoise = encoderSampling.Samples,
                SamplingRemoved = encoderSampling.Removed,
            },
            new VaeDecoderModel(decoder.Session, latentChannels, decoder.Input, decoder.Output),
            new TextEncoderModel(text.Session, text.Ids, text.Output, text.HiddenSize ?? unet.HiddenSize));
    }

    private static void AddChannels(List<(string, int)> sources, string source, int? channels)
    {
        if (channels is { } c)
        {
            sources.Add((source, c));
        }
    }

    private void LogSummary(SchedulerConfig scheduler)
    {
        logger.LogInformation(
            "Loaded Stable Diffusion ONNX export {Folder}{StandIn}: provider {Provider}, precision {Precision}, latent channels {Channels}, " +
            "VAE encoder output {EncoderOutput} ({EncoderNote}), UNet timestep {TimestepForm}, text hidden size {Hidden}, " +
            "scaling_factor {Scaling} ({ScalingSource}), prediction type {Prediction} (scheduler {SchedulerClass}).",
            Folder, IsStandIn ? " [STAND-IN MODELS, not a real diffusion model]" : "", ExecutionProvider, Precision, LatentChannels,
            VaeEncoder.OutputName, EncoderOutput == VaeEncoderOutputKind.LatentParameters ? "mean of latent_parameters is used"
                : VaeEncoder.SamplingRemoved ? "sampling head removed: posterior mean" : VaeEncoder.SamplesNoise ? "sampled by the export at every call" : "no sampling head found",
            (Unet.TimestepRank == 0 ? "rank 0 " : "[batch] ") + SignatureChecker.TypeName(Unet.TimestepElementType), HiddenSize,
            ScalingFactor.ToString(CultureInfo.InvariantCulture),
            ScalingFactorFromConfig ? "from the VAE config" : "no VAE config states it: SD 1.x/2.x default",
            scheduler.PredictionType, scheduler.ClassName ?? "unnamed");
    }

    private sealed record UnetParts(ModelSession Session, TensorElementType Sample, TensorElementType Timestep, int TimestepRank, int? TimestepLength,
        TensorElementType Hidden, int? HiddenSize, TensorElementType Output);

    private sealed record EncoderParts(ModelSession Session, VaeEncoderOutputKind Kind, string OutputName, TensorElementType Input, TensorElementType Output);

    private sealed record DecoderParts(ModelSession Session, TensorElementType Input, TensorElementType Output);

    private sealed record TextParts(ModelSession Session, TensorElementType Ids, TensorElementType Output, int? HiddenSize);
}
