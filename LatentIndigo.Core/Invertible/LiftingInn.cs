using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// The INDIGO+ conditional lifting INN (algorithm.md §2): at each of J levels a lazy polyphase split followed by four
/// additive predict/update lifting steps whose weights are shared across levels. Exactly invertible by construction
/// and differentiable with TorchSharp autograd. Use <see cref="LiftingInnOptions.Pixel"/> for RGB images in [0,1]
/// and <see cref="LiftingInnOptions.Latent"/> for Stable Diffusion latents.
/// </summary>
/// <remarks>
/// The parameters are named like the official INDIGO+ module tree below the prefix <see cref="OfficialKeyPrefix"/>
/// (<c>lifts.{i}.{p,u}.net.{convin | blocks.{k}.{conv1,conv2,fc.0,fc.2} | convout}.{weight,bias}</c>), so official
/// weights load with <see cref="LoadPyTorchStateDict"/>. Our own format (<see cref="Save(string)"/>, <see cref="Load(string)"/>) keeps
/// the options with the weights.
/// </remarks>
public sealed partial class LiftingInn : nn.Module, IInvertibleTransform
{
    /// <summary>The prefix of the INN's keys in the official INDIGO+ <c>INN.pth</c>.</summary>
    internal const string OfficialKeyPrefix = "transform_net.inn.";

    private readonly LiftingInnOptions options;

    // Field name is the state-dict key name; do not rename.
    private readonly ModuleList<LiftingStep> lifts;

    /// <summary>
    /// Creates a network with random weights in PyTorch's default distributions, drawn from seed 0: equal options give
    /// equal weights in every process (<see cref="LiftingInn(LiftingInnOptions, long)"/> takes another seed).
    /// </summary>
    /// <exception cref="InvalidInnOptionsException">An option is out of range.</exception>
    public LiftingInn(LiftingInnOptions options) : this(options, seed: 0)
    {
    }

    /// <summary>
    /// Creates a network with random weights in PyTorch's default distributions (uniform in ±1/√fan_in), drawn from a
    /// generator seeded with <paramref name="seed"/> and not from libtorch's process-wide one: the same options and seed
    /// give the same weights in every process and on every thread.
    /// </summary>
    /// <param name="options">The network's shape.</param>
    /// <param name="seed">Seed of the initial weights.</param>
    /// <exception cref="InvalidInnOptionsException">An option is out of range.</exception>
    public LiftingInn(LiftingInnOptions options, long seed) : base(nameof(LiftingInn))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchCpuSettings.EnsureApplied();
        this.options = options;
        lifts = nn.ModuleList(Enumerable.Range(0, LiftingInnOptions.LiftingSteps)
            .Select(_ => new LiftingStep(options.Channels, options.Width, options.ResBlocks, options.ConditionSize))
            .ToArray());
        RegisterComponents();
        // TorchSharp's layers drew their weights from the unseeded global generator: draw them again from the seed.
        SeededInitialisation.Apply(this, seed);
    }

    /// <summary>
    /// A new network with this one's weights, dtype and device, and <paramref name="levels"/> levels (default: the same).
    /// The lifting weights are shared across levels, so a ×4 network (J = 2) copied with J = 1 serves ×2 unchanged.
    /// Used for per-restore copies that blind refinement may train without touching the original. The copy has this
    /// network's <see cref="Engine"/> and a copy of its <see cref="Encoder"/>.
    /// </summary>
    public LiftingInn Copy(int? levels = null)
    {
        var copyOptions = options with { Levels = levels ?? options.Levels };
        var copy = new LiftingInn(copyOptions);
        try
        {
            copy.load_state_dict(state_dict());
            copy.to(DType).to(Device);
            // Same engine and ONNX Runtime provider; the copy builds its own sessions, bound to its own weights.
            copy.Engine = Engine;
            copy.onnxSessionOptions = onnxSessionOptions;
            copy.Encoder = encoder?.Copy();
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>The options this network was built with.</summary>
    public LiftingInnOptions Options => options;

    /// <inheritdoc />
    public int Channels => options.Channels;

    /// <inheritdoc />
    public int Levels => options.Levels;

    /// <inheritdoc />
    public int ScaleFactor => options.ScaleFactor;

    /// <inheritdoc />
    public int ConditionSize => options.ConditionSize;

    /// <summary>The offset subtracted before the transform and added back after it.</summary>
    public double Offset => options.Offset;

    /// <summary>Number of trainable scalars (488,960 for the INDIGO+ pixel INN).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>The dtype of the weights (float32 unless converted, e.g. to float64 for gradient checks).</summary>
    public ScalarType DType => parameters().First().dtype;

    /// <summary>The device of the weights.</summary>
    public Device Device => parameters().First().device;

    /// <summary>
    /// Sets every predictor and updater output convolution to zero, so the network becomes the plain polyphase
    /// split (coarse = every 2^J-th pixel). A good starting point for training: every step begins exact.
    /// </summary>
    public void ResetToLazyWavelet()
    {
        using var noGrad = no_grad();
        foreach (var step in lifts)
        {
            step.Predictor.OutputConvolution.weight!.zero_();
            step.Updater.OutputConvolution.weight!.zero_();
        }
    }

    /// <summary>
    /// Which runtime computes the passes that need no weight gradients (default <see cref="InnEngine.Auto"/>: ONNX
    /// Runtime for a float32 network). With ONNX Runtime, <see cref="Forward"/> and <see cref="Inverse"/> run generated
    /// graphs when autograd is off (<c>torch.no_grad()</c>), and the guidance step's gradient is a generated graph too;
    /// with autograd on they stay in TorchSharp so that training sees weight gradients.
    /// </summary>
    public InnEngine Engine { get; set; } = InnEngine.Auto;

    /// <summary>
    /// The ONNX Runtime engine when <see cref="Engine"/> selects it for this network, else null. Created on first use and
    /// disposed with the network.
    /// </summary>
    /// <exception cref="InnInputException"><see cref="InnEngine.OnnxRuntime"/> was asked for a network that is not float32.</exception>
    internal InnOnnxRuntime? OnnxRuntimeEngine()
    {
        if (Engine == InnEngine.TorchSharp)
        {
            return null;
        }
        if (onnxRuntime is { BoundWeightsAreFloat32: true } existing)
        {
            return existing; // the per-step path: no parameter enumeration
        }
        if (Engine == InnEngine.Auto && DType != ScalarType.Float32)
        {
            return null;
        }
        lock (options)
        {
            if (onnxRuntime is null && Engine == InnEngine.Auto && onnxRuntimeUnavailable)
            {
                return null;
            }
            try
            {
                return onnxRuntime ??= new InnOnnxRuntime(this, onnxSessionOptions);
            }
            catch (Exception e) when (Engine == InnEngine.Auto && e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
            {
                // An app without ONNX Runtime's native library (INN-only use needs none otherwise): stay on TorchSharp.
                onnxRuntimeUnavailable = true;
                return null;
            }
        }
    }

    /// <summary>Set when ONNX Runtime's native library could not be loaded: <see cref="InnEngine.Auto"/> then uses TorchSharp.</summary>
    private static volatile bool onnxRuntimeUnavailable;

    /// <summary>
    /// Sets how the ONNX Runtime engine creates its sessions (execution provider, threads); null: CPU defaults. Drops the
    /// sessions made so far, so the next pass builds them with the new options.
    /// </summary>
    internal void ConfigureOnnxRuntime(Func<Microsoft.ML.OnnxRuntime.SessionOptions>? sessionOptions)
    {
        lock (options)
        {
            onnxSessionOptions = sessionOptions;
            onnxRuntime?.Dispose();
            onnxRuntime = null;
        }
    }

    private InnOnnxRuntime? onnxRuntime;
    private Func<Microsoft.ML.OnnxRuntime.SessionOptions>? onnxSessionOptions;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (options)
            {
                onnxRuntime?.Dispose();
                onnxRuntime = null;
            }
            encoder?.Dispose();
            encoder = null;
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    /// <exception cref="InnInputException">Wrong rank, channels, dtype or device, or a size not divisible by 2^J.</exception>
    public InnDecomposition Forward(Tensor x, Tensor? condition)
    {
        ArgumentNullException.ThrowIfNull(x);
        InnInputValidation.CheckImage(this, x, "x");
        if (!is_grad_enabled() && OnnxRuntimeEngine() is { } engine)
        {
            return engine.Forward(x, condition);
        }
        using var scope = NewDisposeScope();
        var gamma = InnInputValidation.ResolveCondition(this, condition, x.shape[0]);
        var c = options.Offset == 0 ? x.alias() : x - options.Offset;
        var details = new List<IReadOnlyList<Tensor>>(options.Levels);
        for (int level = 0; level < options.Levels; level++)
        {
            var (coarse, bands) = LazyWavelet.Split(c);
            foreach (var step in lifts)
            {
                (coarse, bands) = step.Forward(coarse, bands, gamma);
            }
            details.Insert(0, bands);
            c = coarse;
        }
        var result = new InnDecomposition(options.Offset == 0 ? c.alias() : c + options.Offset, details);
        return result.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    /// <exception cref="InnInputException">The bands do not fit together or do not fit this network.</exception>
    public Tensor Inverse(Tensor coarse, IReadOnlyList<IReadOnlyList<Tensor>> details, Tensor? condition)
    {
        ArgumentNullException.ThrowIfNull(coarse);
        ArgumentNullException.ThrowIfNull(details);
        InnInputValidation.CheckBands(this, coarse, details);
        if (!is_grad_enabled() && OnnxRuntimeEngine() is { } engine)
        {
            return engine.Inverse(coarse, details, condition);
        }
        using var scope = NewDisposeScope();
        var gamma = InnInputValidation.ResolveCondition(this, condition, coarse.shape[0]);
        var c = options.Offset == 0 ? coarse.alias() : coarse - options.Offset;
        foreach (var level in details)
        {
            IReadOnlyList<Tensor> bands = level;
            for (int i = lifts.Count - 1; i >= 0; i--)
            {
                Tensor[] previous;
                (c, previous) = lifts[i].Inverse(c, bands, gamma);
                bands = previous;
            }
            c = LazyWavelet.Merge(c, bands);
        }
        var x = options.Offset == 0 ? c.alias() : c + options.Offset;
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The lifting steps, for the weight I/O helpers.</summary>
    internal ModuleList<LiftingStep> LiftingSteps => lifts;
}
