using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// One ONNX Runtime session plus the rules around running it: any number of concurrent runs, each with its own
/// binding (ONNX Runtime's <c>Run</c> is thread-safe; the buffers are per <see cref="BindingSlot"/>), a fresh
/// <see cref="RunOptions"/> per run whose Terminate flag the caller's <see cref="CancellationToken"/> sets (surfacing
/// as <see cref="OperationCanceledException"/>), and a <see cref="Dispose"/> that terminates in-flight runs and waits
/// for them before releasing the session.
/// </summary>
internal sealed class ModelSession : IDisposable
{
    private readonly InferenceSession session;
    private readonly object state = new();
    private readonly HashSet<RunOptions> running = [];
    private int inFlight;
    private bool disposed;

    public ModelSession(DiffusionModelKind kind, string path, InferenceSession session, ExecutionProviderKind provider,
        Device device, OrtMemoryInfo memoryInfo)
    {
        Kind = kind;
        Path = path;
        this.session = session;
        Provider = provider;
        Device = device;
        MemoryInfo = memoryInfo;
        StaticInputs = StaticShapes.Describe(session.InputMetadata);
    }

    /// <summary>The inputs with their shapes when the model declares static sizes (batch or spatial), else null.</summary>
    public string? StaticInputs { get; }

    public DiffusionModelKind Kind { get; }

    public string Path { get; }

    public ExecutionProviderKind Provider { get; }

    /// <summary>Where bound buffers live (CPU, or the CUDA device when TorchSharp has CUDA).</summary>
    public Device Device { get; }

    public OrtMemoryInfo MemoryInfo { get; }

    public IReadOnlyDictionary<string, NodeMetadata> Inputs => session.InputMetadata;

    public IReadOnlyDictionary<string, NodeMetadata> Outputs => session.OutputMetadata;

    public InferenceSession Session => session;

    /// <summary>Readable name for messages, e.g. "unet".</summary>
    public string Name => Kind switch
    {
        DiffusionModelKind.Unet => "unet",
        DiffusionModelKind.VaeEncoder => "vae_encoder",
        DiffusionModelKind.VaeDecoder => "vae_decoder",
        DiffusionModelKind.Upscaler => "upscaler",
        _ => "text_encoder",
    };

    public OrtIoBinding CreateBinding() => session.CreateIoBinding();

    /// <summary>
    /// Counts one call in flight (filling bound buffers, running, reading the outputs), so that <see cref="Dispose"/>
    /// waits for it. Exclusivity of the buffers is the <see cref="BindingSlot"/>'s business.
    /// </summary>
    public CallScope Enter()
    {
        Interlocked.Increment(ref inFlight);
        if (Volatile.Read(ref disposed))
        {
            Interlocked.Decrement(ref inFlight);
            throw new ObjectDisposedException(nameof(StableDiffusionModels), "The model set has been disposed.");
        }
        return new CallScope(this);
    }

    /// <summary>Ends the call counted by <see cref="Enter"/>.</summary>
    public readonly struct CallScope(ModelSession owner) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref owner.inFlight);
    }

    /// <summary>
    /// Runs with a binding whose buffers the caller has filled (inside <see cref="Enter"/>); the outputs are in the
    /// bound buffers afterwards.
    /// </summary>
    public void Run(OrtIoBinding binding, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        {
            using var runOptions = new RunOptions();
            lock (state)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                running.Add(runOptions);
            }
            try
            {
                using var registration = cancellationToken.CanBeCanceled
                    ? cancellationToken.UnsafeRegister(static s => ((RunOptions)s!).Terminate = true, runOptions)
                    : default;
                if (Device.type == DeviceType.CUDA)
                {
                    // TorchSharp and ONNX Runtime share no stream: finish TorchSharp's writes to the inputs first.
                    torch.cuda.synchronize();
                }
                session.RunWithBinding(runOptions, binding);
            }
            catch (OnnxRuntimeException e) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"The {Name} run was cancelled.", e, cancellationToken);
            }
            catch (OnnxRuntimeException e) when (Volatile.Read(ref disposed))
            {
                throw new ObjectDisposedException($"The model set was disposed while the {Name} model was running.", e);
            }
            catch (OnnxRuntimeException e)
            {
                // ONNX Runtime's whole message: its later lines say which dimension failed ("index: 0 Got: 2 Expected: 1").
                var advice = StaticInputs is { } shapes
                    ? $"This export declares static input sizes ({shapes}): run it at those sizes or re-export it with dynamic axes."
                    : "Check the input sizes against the export.";
                throw new LatentIndigoException($"The {Name} model failed in ONNX Runtime: {OneLine(e.Message)}. {advice}", e);
            }
            finally
            {
                lock (state)
                {
                    running.Remove(runOptions);
                }
            }
        }
    }

    /// <summary>ONNX Runtime's multi-line message on one line (line breaks become " | ").</summary>
    public static string OneLine(string message) =>
        string.Join(" | ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');

    /// <summary>Terminates in-flight runs, waits for them to return, then releases the session.</summary>
    public void Dispose()
    {
        lock (state)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
            foreach (var running in running)
            {
                running.Terminate = true;
            }
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref inFlight) != 0)
        {
            spin.SpinOnce(sleep1Threshold: 10);
        }
        session.Dispose();
    }

    /// <summary>
    /// The session settings every session of a model set gets, whichever provider it ends up on: the intra-op thread
    /// count and, unless allowed, no spinning of idle workers. Built in one place so that a CPU fallback after a
    /// failed CUDA start keeps them.
    /// </summary>
    internal static SessionOptions CommonSessionOptions(DiffusionModelOptions options)
    {
        var sessionOptions = new SessionOptions();
        if (options.IntraOpNumThreads is { } threads)
        {
            sessionOptions.IntraOpNumThreads = threads;
        }
        if (!options.AllowThreadSpinning)
        {
            // ONNX Runtime's idle workers spin after each run by default; here TorchSharp works between runs
            // (copies, sampler, guidance) and spinning workers would steal its cores.
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        }
        return sessionOptions;
    }

    /// <summary>Creates the session for one model file with the requested provider, mapping provider failures.</summary>
    /// <remarks>
    /// <paramref name="modelBytes"/>, when given, replaces the file's content (a rewritten graph); external-data weights
    /// are still read from the file's folder. <paramref name="appendCuda"/> replaces the real CUDA append (tests reach
    /// the fallback path with it on machines without CUDA).
    /// </remarks>
    public static ModelSession Create(DiffusionModelKind kind, string path, DiffusionModelOptions options,
        ref ExecutionProviderKind provider, ILogger logger, byte[]? modelBytes = null, Func<SessionOptions, bool>? appendCuda = null)
    {
        var sessionOptions = CommonSessionOptions(options);
        try
        {
            bool cuda = provider == ExecutionProviderKind.Cuda
                && (appendCuda?.Invoke(sessionOptions) ?? ExecutionProviders.TryAppendCuda(sessionOptions, options, logger, kind));
            if (provider == ExecutionProviderKind.Cuda && !cuda)
            {
                provider = ExecutionProviderKind.Cpu; // TryAppendCuda threw unless fallback is allowed (and logged)
            }
            options.ConfigureSession?.Invoke(kind, sessionOptions);
            InferenceSession Open(SessionOptions so)
            {
                if (modelBytes is null)
                {
                    return new InferenceSession(path, so);
                }
                so.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", System.IO.Path.GetDirectoryName(path)!);
                return new InferenceSession(modelBytes, so);
            }
            InferenceSession session;
            try
            {
                session = Open(sessionOptions);
            }
            catch (OnnxRuntimeException e) when (cuda && ExecutionProviders.LooksLikeProviderFailure(e))
            {
                if (!options.AllowCpuFallback)
                {
                    throw ExecutionProviders.Unavailable(e);
                }
                logger.LogWarning(e, "CUDA could not start for {Model} ({Reason}); running on the CPU because AllowCpuFallback is set.", kind, e.Message);
                sessionOptions.Dispose();
                // The same settings as the first attempt (threads, no spinning), without the CUDA provider.
                sessionOptions = CommonSessionOptions(options);
                options.ConfigureSession?.Invoke(kind, sessionOptions);
                session = Open(sessionOptions);
                provider = ExecutionProviderKind.Cpu;
                cuda = false;
            }
            var device = cuda && torch.cuda.is_available() ? new Device(DeviceType.CUDA, options.CudaDeviceId) : torch.CPU;
            if (cuda && device.type != DeviceType.CUDA)
            {
                logger.LogWarning("ONNX Runtime runs {Model} on CUDA but TorchSharp has no CUDA: buffers stay in host memory and ONNX Runtime copies them each run.", kind);
            }
            var memoryInfo = device.type == DeviceType.CUDA
                ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, options.CudaDeviceId, OrtMemType.Default)
                : OrtMemoryInfo.DefaultInstance;
            return new ModelSession(kind, path, session, provider, device, memoryInfo);
        }
        finally
        {
            sessionOptions.Dispose();
        }
    }
}
