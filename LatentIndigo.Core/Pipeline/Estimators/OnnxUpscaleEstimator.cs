using System.Security.Cryptography;
using LatentIndigo.Diffusion;
using LatentIndigo.Onnx;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// The initial estimate from any ONNX super-resolution network (ESRGAN, Real-ESRGAN, SwinIR exports, ...): NCHW or
/// NHWC, RGB in [0,1] or [0,255], its scale read from a probe run at load. Images of any size run in tiles with
/// overlap and blended seams, so memory stays bounded by the tile; runs are cancellable and report tiles done.
/// Load one with <see cref="Load"/> from a file or a bundled name (<see cref="BundledNames"/>, e.g.
/// <c>esrgan-slim-x4</c>). Thread-safe: concurrent <see cref="Estimate(Tensor, int, CancellationToken)"/> calls each
/// bind buffers of their own.
/// </summary>
public sealed class OnnxUpscaleEstimator : IInitialEstimator, IDisposable
{
    private const string ResourcePrefix = "LatentIndigo.Pipeline.Estimators.";
    private readonly ModelSession session;
    private readonly UpscalerSignature signature;
    private readonly OnnxUpscaleEstimatorOptions options;

    private OnnxUpscaleEstimator(ModelSession session, UpscalerSignature signature, OnnxUpscaleEstimatorOptions options, string name, string sha256)
    {
        this.session = session;
        this.signature = signature;
        this.options = options;
        Name = name;
        Sha256 = sha256;
    }

    /// <summary>
    /// The networks shipped inside LatentIndigo.Core: UpscalerJS's ESRGAN-slim ×4 and ×2 (RDN, DIV2K, MIT licence,
    /// converted with <see cref="TfjsLayersConverter"/>).
    /// </summary>
    public static IReadOnlyList<string> BundledNames { get; } = ["esrgan-slim-x4", "esrgan-slim-x2"];

    /// <summary>The bundled name, or the model file's name.</summary>
    public string Name { get; }

    /// <summary>SHA-256 of the model bytes (hex), so a record of the settings names the exact network.</summary>
    public string Sha256 { get; }

    /// <summary>The factor the network enlarges by.</summary>
    public int Scale => signature.Scale;

    /// <summary>The network's pixel range.</summary>
    public PixelValueRange ValueRange => signature.ValueRange;

    /// <summary>True when the network takes and returns NHWC tensors.</summary>
    public bool ChannelsLast => signature.ChannelsLast;

    /// <summary>The provider the network runs on.</summary>
    public ExecutionProviderKind Provider => session.Provider;

    /// <summary>
    /// Loads a network from an ONNX file or a bundled name (<see cref="BundledNames"/>). The pixel range and layout come
    /// from <paramref name="options"/>, else the model's metadata or a sidecar <c>model.onnx.json</c>
    /// (<c>{"valueRange": "0-255", "layout": "NHWC"}</c>), else [0,1] and the input's channel axis.
    /// </summary>
    /// <exception cref="LatentIndigoException">The file is missing or its inputs and outputs cannot be mapped; the message says what was found.</exception>
    public static OnnxUpscaleEstimator Load(string pathOrBundledName, OnnxUpscaleEstimatorOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(pathOrBundledName);
        options ??= new OnnxUpscaleEstimatorOptions();
        options.Validate();
        byte[] bytes;
        string name, path;
        bool bundled = BundledNames.Contains(pathOrBundledName, StringComparer.OrdinalIgnoreCase);
        if (bundled)
        {
            name = pathOrBundledName.ToLowerInvariant();
            using var stream = typeof(OnnxUpscaleEstimator).Assembly.GetManifestResourceStream(ResourcePrefix + name + ".onnx")
                ?? throw new LatentIndigoException($"The bundled upscaler '{name}' is not embedded in this build of LatentIndigo.Core.");
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            bytes = memory.ToArray();
            path = Path.Combine(AppContext.BaseDirectory, name + ".onnx"); // no external data: only its folder is used
        }
        else
        {
            if (!File.Exists(pathOrBundledName))
            {
                throw new LatentIndigoException(
                    $"The upscaler '{pathOrBundledName}' is neither an ONNX file nor a bundled name ({string.Join(", ", BundledNames)}).");
            }
            path = Path.GetFullPath(pathOrBundledName);
            name = Path.GetFileName(path);
            bytes = File.ReadAllBytes(path);
        }
        var provider = options.Session?.ExecutionProvider ?? ExecutionProviderKind.Cpu;
        ModelSession session;
        try
        {
            session = ModelSession.Create(DiffusionModelKind.Upscaler, path, options.Session ?? new DiffusionModelOptions(), ref provider,
                logger ?? NullLogger.Instance, bytes);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new LatentIndigoException($"The upscaler '{name}' is not a model ONNX Runtime can load: {ModelSession.OneLine(e.Message)}.", e);
        }
        try
        {
            var signature = UpscalerSignature.Read(session.Session, name, bundled ? null : path, options);
            return new OnnxUpscaleEstimator(session, signature, options, name, Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Tensor Estimate(Tensor lowQuality, int scaleFactor, CancellationToken cancellationToken = default) =>
        Estimate(lowQuality, scaleFactor, null, cancellationToken);

    /// <summary>
    /// Upscales <paramref name="lowQuality"/> [N,3,H,W] in [0,1] by the network's factor, tile by tile; returns
    /// [N,3,H·s,W·s] float32 in [0,1] on the input's device.
    /// </summary>
    /// <exception cref="LatentIndigoException"><paramref name="scaleFactor"/> is not the network's scale.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (a running tile is terminated).</exception>
    public Tensor Estimate(Tensor lowQuality, int scaleFactor, IProgress<UpscaleProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lowQuality);
        if (scaleFactor != Scale)
        {
            throw new LatentIndigoException(
                $"The upscaler '{Name}' enlarges ×{Scale}, but this restore asks for ×{scaleFactor}: choose a ×{scaleFactor} network or restore at ×{Scale}.");
        }
        if (lowQuality.dim() != 4 || lowQuality.shape[1] != 3)
        {
            throw new ArgumentException($"Expected a batch [N,3,H,W]; got [{string.Join(",", lowQuality.shape)}].", nameof(lowQuality));
        }
        cancellationToken.ThrowIfCancellationRequested();
        int n = (int)lowQuality.shape[0], h = (int)lowQuality.shape[2], w = (int)lowQuality.shape[3], s = Scale;
        // A model with a fixed input size gets tiles of exactly that size; smaller images are padded up to it.
        int th = signature.FixedHeight ?? Math.Min(options.TileSize, h), tw = signature.FixedWidth ?? Math.Min(options.TileSize, w);
        int overlapY = signature.FixedHeight is { } fh ? Math.Min(options.Overlap, fh / 2) : options.Overlap;
        int overlapX = signature.FixedWidth is { } fw ? Math.Min(options.Overlap, fw / 2) : options.Overlap;
        int ph = Math.Max(h, th), pw = Math.Max(w, tw);
        var ys = UpscaleTiling.Starts(ph, th, overlapY);
        var xs = UpscaleTiling.Starts(pw, tw, overlapX);
        int total = n * ys.Count * xs.Count, done = 0;
        float range = ValueRange == PixelValueRange.ZeroTo255 ? 255f : 1f;
        var device = session.Device;

        using var call = session.Enter();
        long[] inShape = signature.ChannelsLast ? [1, th, tw, 3] : [1, 3, th, tw];
        long[] outShape = signature.ChannelsLast ? [1, th * s, tw * s, 3] : [1, 3, th * s, tw * s];
        using var binding = new ShapeBinding(session, 1, th, tw, 0);
        var input = binding.BindInput(session, signature.Input, inShape, TensorElementType.Float);
        var output = binding.BindOutput(session, signature.Output, outShape, TensorElementType.Float);
        var result = torch.empty([n, 3, h * s, w * s], ScalarType.Float32, lowQuality.device).DetachFromDisposeScope();
        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            for (int image = 0; image < n; image++)
            {
                var source = lowQuality[image].to(ScalarType.Float32).to(device).unsqueeze(0);
                if (ph > h || pw > w)
                {
                    source = torch.nn.functional.pad(source, [0, pw - w, 0, ph - h], PaddingModes.Replicate);
                }
                var sum = torch.zeros([3, ph * s, pw * s], ScalarType.Float32, device);
                var weight = torch.zeros([1, ph * s, pw * s], ScalarType.Float32, device);
                foreach (int y0 in ys)
                {
                    var rows = UpscaleTiling.Weights(y0, th, ph, overlapY, s);
                    foreach (int x0 in xs)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using (var tileScope = torch.NewDisposeScope())
                        {
                            var tile = source[.., .., y0..(y0 + th), x0..(x0 + tw)];
                            if (range != 1f)
                            {
                                tile = tile.mul(range);
                            }
                            input.Tensor.copy_(signature.ChannelsLast ? tile.permute(0, 2, 3, 1) : tile);
                            session.Run(binding.Io, cancellationToken);
                            var upscaled = signature.ChannelsLast ? output.Tensor.permute(0, 3, 1, 2)[0] : output.Tensor[0];
                            var map = UpscaleTiling.WeightMap(rows, UpscaleTiling.Weights(x0, tw, pw, overlapX, s), device);
                            int oy = y0 * s, ox = x0 * s;
                            sum[.., oy..(oy + th * s), ox..(ox + tw * s)].add_(upscaled.mul(map).div_(range));
                            weight[.., oy..(oy + th * s), ox..(ox + tw * s)].add_(map);
                        }
                        progress?.Report(new UpscaleProgress(++done, total));
                    }
                }
                var blended = sum.div_(weight)[.., ..(h * s), ..(w * s)].clamp_(0f, 1f);
                result[image].copy_(blended);
                scope.DisposeEverything();
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>"OnnxUpscaleEstimator esrgan-slim-x4 sha256=… x4 tile=192 overlap=32": what a batch journal records.</summary>
    public override string ToString() =>
        $"{nameof(OnnxUpscaleEstimator)} {Name} sha256={Sha256[..16]} x{Scale} tile={options.TileSize} overlap={options.Overlap}";

    /// <summary>Releases the ONNX Runtime session (waits for runs in flight, after terminating them).</summary>
    public void Dispose() => session.Dispose();
}
