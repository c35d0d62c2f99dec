using LatentIndigo.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Invertible;

/// <summary>
/// Runs a float32 <see cref="LiftingInn"/>'s forward, inverse and guidance-gradient passes as generated ONNX graphs
/// (<see cref="InnGraphGenerator"/>) on ONNX Runtime. The weights are graph inputs bound, through IOBinding, to the
/// network's own parameter tensors (zero copy): in-place updates (Adam in <see cref="InnRefiner"/>) are seen by the next
/// run, and a parameter replaced by a new tensor is noticed (its address changes) and rebound. One session and binding
/// per (pass, batch, height, width, shared γ or not) is cached; one run at a time (other callers wait).
/// </summary>
internal sealed partial class InnOnnxRuntime : IDisposable
{
    /// <summary>
    /// Sessions kept per network. Windowed passes (<see cref="InnTiling"/>) use up to nine window shapes, each with a
    /// forward and an inverse graph; fewer slots would rebuild sessions every round of the measurement-consistent finish.
    /// </summary>
    private const int CacheCapacity = 20;

    private readonly LiftingInn inn;
    private readonly Func<SessionOptions> sessionOptions;
    private readonly LiftingInnOptions options;
    private readonly object gate = new();
    private readonly List<GraphSession> cache = [];
    private (string Name, Tensor Parameter)[] parameters;
    private readonly IntPtr[] pointers;
    private readonly OrtValue?[] weightValues;
    private readonly Dictionary<string, long[]> weightShapes;
    private readonly OrtMemoryInfo memoryInfo;
    private readonly Device device;
    private readonly RunOptions quietRun = new();
    private int weightsVersion;
    private bool disposed;

    /// <param name="inn">A float32 network; it must outlive this object.</param>
    /// <param name="sessionOptions">Makes the options of each new session (execution provider, threads); null: CPU defaults.</param>
    public InnOnnxRuntime(LiftingInn inn, Func<SessionOptions>? sessionOptions = null)
    {
        this.inn = inn ?? throw new ArgumentNullException(nameof(inn));
        if (inn.DType != ScalarType.Float32)
        {
            throw new InnInputException(
                $"The ONNX Runtime engine runs float32 INNs; this one is {inn.DType}. Use InnEngine.TorchSharp for other dtypes.");
        }
        options = inn.Options;
        this.sessionOptions = sessionOptions ?? DefaultCpuOptions;
        parameters = inn.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToArray();
        weightShapes = parameters.ToDictionary(p => p.Name, p => p.Parameter.shape);
        pointers = new IntPtr[parameters.Length];
        weightValues = new OrtValue?[parameters.Length];
        device = inn.Device;
        memoryInfo = device.type == DeviceType.CUDA
            ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, device.index < 0 ? 0 : device.index, OrtMemType.Default)
            : OrtMemoryInfo.DefaultInstance;
    }

    /// <summary>
    /// Whether CPU graphs use ONNX Runtime's blocked-layout convolutions where it has them (default true; see
    /// <see cref="NchwcLayout"/>). False gives the plain-convolution graphs (for comparisons). Changing it drops the cached
    /// sessions.
    /// </summary>
    public bool BlockedLayout
    {
        get => blockedLayout;
        set
        {
            lock (gate)
            {
                if (value == blockedLayout)
                {
                    return;
                }
                blockedLayout = value;
                foreach (var s in cache)
                {
                    s.Dispose();
                }
                cache.Clear();
            }
        }
    }

    private bool blockedLayout = true;

    /// <summary>
    /// CPU sessions: all graph optimizations, and no spinning workers after a run (TorchSharp works between runs and
    /// spinning threads would take its cores, as for the diffusion models).
    /// </summary>
    public static SessionOptions DefaultCpuOptions()
    {
        var o = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        o.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        return o;
    }

    /// <summary>The forward pass (no autograd): new tensors the caller owns.</summary>
    public InnDecomposition Forward(Tensor x, Tensor? condition, CancellationToken cancellationToken = default)
    {
        InnInputValidation.CheckImage(inn, x, "x");
        lock (gate)
        {
            var s = Prepare(InnGraphKind.Forward, x.shape, condition, cancellationToken);
            s.Input(InnGraphGenerator.X).copy_(x);
            Run(s, cancellationToken);
            long c = options.Channels;
            var details = new IReadOnlyList<Tensor>[options.Levels];
            for (int l = 0; l < options.Levels; l++)
            {
                var bands = new Tensor[3];
                for (int k = 0; k < 3; k++)
                {
                    using var band = s.Output(InnGraphGenerator.Details(l)).narrow(1, k * c, c);
                    bands[k] = band.clone();
                }
                details[l] = bands;
            }
            return new InnDecomposition(s.Output(InnGraphGenerator.Coarse).clone(), details);
        }
    }

    /// <summary>The inverse pass (no autograd): a new tensor the caller owns.</summary>
    public Tensor Inverse(Tensor coarse, IReadOnlyList<IReadOnlyList<Tensor>> details, Tensor? condition,
        CancellationToken cancellationToken = default)
    {
        InnInputValidation.CheckBands(inn, coarse, details);
        lock (gate)
        {
            long scale = options.ScaleFactor;
            long[] shape = [coarse.shape[0], coarse.shape[1], coarse.shape[2] * scale, coarse.shape[3] * scale];
            var s = Prepare(InnGraphKind.Inverse, shape, condition, cancellationToken);
            s.Input(InnGraphGenerator.Coarse).copy_(coarse);
            long c = options.Channels;
            for (int l = 0; l < options.Levels; l++)
            {
                var buffer = s.Input(InnGraphGenerator.Details(l));
                for (int k = 0; k < 3; k++)
                {
                    using var band = buffer.narrow(1, k * c, c);
                    band.copy_(details[l][k]);
                }
            }
            Run(s, cancellationToken);
            return s.Output(InnGraphGenerator.X).clone();
        }
    }

    /// <summary>
    /// ∂L/∂x of the guidance loss (see <see cref="InnGraphKind.Guidance"/>) and its two terms. The gradient tensor belongs
    /// to this object and is overwritten by the next call: use it at once, do not dispose it.
    /// </summary>
    public (Tensor Gradient, double CoarseDistance, double Consistency) GuidanceGradient(Tensor x, Tensor observation,
        Tensor? condition, double coarseWeight, double consistencyWeight, CancellationToken cancellationToken = default)
    {
        InnInputValidation.CheckImage(inn, x, "x", ScalarType.Float32, device.type);
        lock (gate)
        {
            var s = Prepare(InnGraphKind.Guidance, x.shape, condition, cancellationToken);
            var y = s.Input(InnGraphGenerator.Observation);
            if (!ShapeEquals(observation.shape, y.shape))
            {
                throw new ArgumentException(
                    $"The observation [{string.Join(",", observation.shape)}] must have the coarse band's shape [{string.Join(",", y.shape)}].",
                    nameof(observation));
            }
            s.Input(InnGraphGenerator.X).copy_(x);
            y.copy_(observation);
            s.SetLossWeights((float)coarseWeight, (float)consistencyWeight);
            Run(s, cancellationToken);
            return (s.Output(InnGraphGenerator.Gradient), s.ReadScalar(InnGraphGenerator.CoarseDistance), s.ReadScalar(InnGraphGenerator.Consistency));
        }
    }

    /// <summary>
    /// Whether the network's weights are (still) float32, read from the bound parameters without enumerating the module
    /// (no allocation); false once they were replaced, so that the caller re-checks the network itself.
    /// </summary>
    public bool BoundWeightsAreFloat32 =>
        parameters.Length > 0 && !parameters[0].Parameter.IsInvalid && parameters[0].Parameter.dtype == ScalarType.Float32;

    /// <summary>The number of cached sessions (for tests).</summary>
    internal int CachedSessions
    {
        get
        {
            lock (gate)
            {
                return cache.Count;
            }
        }
    }

    private static bool ShapeEquals(long[] a, long[] b) => a.AsSpan().SequenceEqual(b);

    private GraphSession Prepare(InnGraphKind kind, long[] shape, Tensor? condition, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        RefreshWeights();
        // One γ for the whole batch (null, a vector, one row, or a batch of one) lets the graph fold s(γ) into conv2.
        bool shared = condition is null || condition.dim() == 1 || condition.shape[0] == 1 || shape[0] == 1;
        GraphSession? session = null;
        for (int i = 0; i < cache.Count; i++)
        {
            var candidate = cache[i];
            if (candidate.Kind == kind && candidate.Batch == shape[0] && candidate.Height == shape[2] && candidate.Width == shape[3]
                && candidate.SharedCondition == shared)
            {
                session = candidate;
                break;
            }
        }
        if (session is null)
        {
            // Building a session cannot be interrupted (tens of ms, seconds on a loaded CPU): do not start one for nothing.
            cancellationToken.ThrowIfCancellationRequested();
            if (cache.Count == CacheCapacity)
            {
                cache[0].Dispose();
                cache.RemoveAt(0);
            }
            session = new GraphSession(this, kind, shape[0], shape[2], shape[3], shared);
            cache.Add(session);
        }
        if (session.WeightsVersion != weightsVersion)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                session.Io.BindInput(parameters[i].Name, weightValues[i]!);
            }
            session.WeightsVersion = weightsVersion;
        }
        var gamma = session.Input(InnGraphGenerator.Condition);
        if (condition is null)
        {
            if (!session.ConditionIsOnes)
            {
                gamma.fill_(1);
                session.ConditionIsOnes = true;
            }
        }
        else
        {
            using var resolved = InnInputValidation.ResolveCondition(inn, condition, shared ? 1 : shape[0]);
            gamma.copy_(resolved);
            session.ConditionIsOnes = false;
        }
        return session;
    }

    /// <summary>
    /// (Re)creates the weights' OrtValues when a parameter's address changed (first call, <c>load_state_dict</c> that
    /// swapped tensors, a move): ONNX Runtime must never read freed memory.
    /// </summary>
    private void RefreshWeights()
    {
        bool changed = false;
        for (int i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].Parameter.IsInvalid)
            {
                // Module.to(...) and the like register new parameter tensors and dispose the old ones.
                parameters = inn.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToArray();
                changed = true;
                break;
            }
            if (TorchSharpNative.DataPointer(parameters[i].Parameter) != pointers[i] || weightValues[i] is null)
            {
                changed = true;
            }
        }
        if (!changed)
        {
            return;
        }
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i].Parameter;
            if (!p.is_contiguous() || p.dtype != ScalarType.Float32 || p.device.type != device.type)
            {
                throw new InnInputException(
                    $"The INN parameter {parameters[i].Name} is no longer a contiguous float32 tensor on {device}; the ONNX Runtime engine cannot bind it.");
            }
            weightValues[i]?.Dispose();
            pointers[i] = TorchSharpNative.DataPointer(p);
            weightValues[i] = OrtValue.CreateTensorValueWithData(memoryInfo, TensorElementType.Float, p.shape, pointers[i], p.numel() * 4);
        }
        if (device.type == DeviceType.CUDA)
        {
            // A captured CUDA graph replays the old addresses: rebinding is not enough, the sessions must be rebuilt.
            foreach (var s in cache)
            {
                s.Dispose();
            }
            cache.Clear();
        }
        weightsVersion++;
    }

    private void Run(GraphSession s, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (device.type == DeviceType.CUDA)
        {
            // TorchSharp and ONNX Runtime share no stream: finish TorchSharp's writes to the inputs first.
            torch.cuda.synchronize();
        }
        try
        {
            if (!cancellationToken.CanBeCanceled)
            {
                s.Session.RunWithBinding(quietRun, s.Io);
                return;
            }
            using var runOptions = new RunOptions();
            using var registration = cancellationToken.UnsafeRegister(static o => ((RunOptions)o!).Terminate = true, runOptions);
            s.Session.RunWithBinding(runOptions, s.Io);
        }
        catch (OnnxRuntimeException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The INN run was cancelled.", e, cancellationToken);
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
            foreach (var s in cache)
            {
                s.Dispose();
            }
            cache.Clear();
            foreach (var v in weightValues)
            {
                v?.Dispose();
            }
            quietRun.Dispose();
        }
    }
}
