using System.Text;
using System.Text.Json;
using TorchSharp;
using LatentIndigo.Weights;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

public sealed partial class LiftingInn
{
    private const string FileMagic = "LIINN\u0001\r\n";

    /// <summary>
    /// Free-form facts stored with the weights by <see cref="Save(string)"/> (for example the degradation spec the network was
    /// trained for, the training steps and the validation PSNR). Keys and values are plain strings.
    /// </summary>
    public IDictionary<string, string> Metadata { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Loads a PyTorch state dict (<c>torch.save(model.state_dict(), path)</c>, zip format) with the official INDIGO+
    /// key names <c>transform_net.inn.lifts.{i}.{p,u}.net...</c>. Keys may also carry no prefix or another prefix
    /// (found from <c>lifts.0.p.net.convin.weight</c>); keys of a degradation encoder stored beside the INN (names
    /// containing <c>kdsr</c>) are ignored. Everything is checked before anything is copied.
    /// </summary>
    /// <exception cref="InnWeightsException">
    /// The file is missing or unreadable, or keys are missing, unexpected or mis-shaped (all are listed in one message).
    /// </exception>
    public void LoadPyTorchStateDict(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new InnWeightsException($"INN weights file '{path}' does not exist.");
        }
        Dictionary<string, Tensor> entries;
        IReadOnlyList<string> notFloat;
        try
        {
            entries = StateDictFile.Read(path, out notFloat);
        }
        catch (WeightFileException ex)
        {
            throw new InnWeightsException(
                $"Could not read '{path}' as a PyTorch state dict ({ex.Message}). Save it in Python with torch.save(model.state_dict(), path) (zip format, PyTorch ≥ 1.6).", ex);
        }
        try
        {
            var unexpected = notFloat.Where(k => !k.Contains("kdsr", StringComparison.OrdinalIgnoreCase)).ToList();
            if (unexpected.Count > 0)
            {
                throw new InnWeightsException(
                    $"The state dict in '{path}' holds non-floating-point tensors the INN does not have: {string.Join(", ", unexpected)}.");
            }
            LoadStateDictEntries(entries, path);
        }
        finally
        {
            foreach (var t in entries.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes the weights as a PyTorch state dict with the official INDIGO+ key names (prefix
    /// <see cref="OfficialKeyPrefix"/>), readable by <c>torch.load</c> and by <see cref="LoadPyTorchStateDict"/>.
    /// The options are not stored: use <see cref="Save(string)"/> for that.
    /// </summary>
    public void SavePyTorchStateDict(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in state_dict())
        {
            dict[OfficialKeyPrefix + key] = value;
        }
        WriteAtomically(path, stream => StateDictFile.Write(stream, dict));
    }

    /// <summary>
    /// Saves options, <see cref="Metadata"/> and weights in LatentIndigo's own format (a small header followed by
    /// TorchSharp's weight format). Written to a temporary file first, so a crash never leaves a half-written file.
    /// </summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        WriteAtomically(path, Save);
    }

    /// <summary>Writes the same bytes as <see cref="Save(string)"/> to a stream (left open).</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new InnFileHeader
        {
            Channels = options.Channels,
            Offset = options.Offset,
            Levels = options.Levels,
            ResBlocks = options.ResBlocks,
            Width = options.Width,
            ConditionSize = options.ConditionSize,
            EncoderWidth = encoder?.Width,
            // Only written when the encoder sees RGB images rather than the network's own space (a latent INN's).
            EncoderChannels = encoder is not null && encoder.Channels != options.Channels ? encoder.Channels : null,
            Metadata = new Dictionary<string, string>(Metadata),
        };
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Encoding.ASCII.GetBytes(FileMagic));
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        writer.Write(json.Length);
        writer.Write(json);
        // Weights are written in float32 on the CPU whatever the module currently uses.
        using (var cpu = new LiftingInn(options))
        {
            using (no_grad())
            {
                var source = state_dict();
                foreach (var (key, value) in cpu.state_dict())
                {
                    value.copy_(source[key]);
                }
            }
            cpu.save(writer);
        }
        if (encoder is not null)
        {
            // The encoder's weights follow the network's, in the same format (float32, CPU).
            using var cpuEncoder = new DegradationEncoder(encoder.Channels, encoder.ConditionSize, encoder.Width);
            using (no_grad())
            {
                var source = encoder.state_dict();
                foreach (var (key, value) in cpuEncoder.state_dict())
                {
                    value.copy_(source[key]);
                }
            }
            cpuEncoder.save(writer);
        }
        writer.Flush();
    }

    /// <summary>Loads a network saved by <see cref="Save(string)"/>, with its options and metadata, in float32 on the CPU.</summary>
    /// <exception cref="InnWeightsException">The file is missing, not in this format, or damaged.</exception>
    public static LiftingInn Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new InnWeightsException($"INN weights file '{path}' does not exist.");
        }
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>
    /// Loads either format by its extension: an official INDIGO+ <c>.pth</c> state dict (into the INDIGO+ pixel
    /// network, <see cref="LiftingInnOptions.Pixel"/>) or a file saved by <see cref="Save(string)"/>.
    /// </summary>
    /// <exception cref="InnWeightsException">The file is missing, unreadable, or does not fit the network.</exception>
    public static LiftingInn LoadAny(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Path.GetExtension(path).Equals(".pth", StringComparison.OrdinalIgnoreCase))
        {
            return Load(path);
        }
        var inn = new LiftingInn(LiftingInnOptions.Pixel());
        try
        {
            inn.LoadPyTorchStateDict(path);
            return inn;
        }
        catch
        {
            inn.Dispose();
            throw;
        }
    }

    /// <summary>Loads a network from a stream holding the bytes <see cref="Save(Stream)"/> wrote.</summary>
    /// <param name="stream">The stream, read from its current position.</param>
    /// <param name="sourceName">A name for error messages.</param>
    public static LiftingInn Load(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        InnFileHeader? header;
        try
        {
            var magic = Encoding.ASCII.GetString(reader.ReadBytes(FileMagic.Length));
            if (magic != FileMagic)
            {
                throw new InnWeightsException(
                    $"'{sourceName}' is not a LatentIndigo INN file. For official INDIGO+ .pth weights use LoadPyTorchStateDict.");
            }
            int length = reader.ReadInt32();
            if (length <= 0 || length > 1 << 20)
            {
                throw new InnWeightsException($"'{sourceName}' has a damaged header (length {length}).");
            }
            header = JsonSerializer.Deserialize<InnFileHeader>(reader.ReadBytes(length));
        }
        catch (Exception ex) when (ex is EndOfStreamException or JsonException)
        {
            throw new InnWeightsException($"'{sourceName}' is truncated or damaged: {ex.Message}", ex);
        }
        if (header is null)
        {
            throw new InnWeightsException($"'{sourceName}' has an empty header.");
        }
        var options = new LiftingInnOptions
        {
            Channels = header.Channels,
            Offset = header.Offset,
            Levels = header.Levels,
            ResBlocks = header.ResBlocks,
            Width = header.Width,
            ConditionSize = header.ConditionSize,
        };
        try
        {
            options.Validate();
        }
        catch (InvalidInnOptionsException ex)
        {
            throw new InnWeightsException($"'{sourceName}' stores invalid options: {ex.Message}", ex);
        }
        // A header of a few bytes can declare a network of many gigabytes: check that the file holds the weights it
        // declares (4 bytes per float32 scalar) before allocating the network.
        long declaredBytes = options.CountParameters() * sizeof(float);
        if (stream.CanSeek && declaredBytes > stream.Length - stream.Position)
        {
            throw new InnWeightsException(
                $"'{sourceName}' declares a network of {options.CountParameters():N0} parameters ({declaredBytes / 1e6:N1} MB of weights, options {options}) "
                + $"but holds only {stream.Length - stream.Position:N0} more bytes: the file is truncated or its header is damaged.");
        }
        var inn = new LiftingInn(options);
        try
        {
            inn.load(reader, strict: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            inn.Dispose();
            throw new InnWeightsException($"'{sourceName}' has weights that do not fit its options ({options}): {ex.Message}", ex);
        }
        try
        {
            ThrowIfNotFinite(inn.state_dict(), sourceName);
        }
        catch
        {
            inn.Dispose();
            throw;
        }
        if (header.EncoderWidth is { } encoderWidth)
        {
            try
            {
                if (encoderWidth is < 1 or > 1024)
                {
                    throw new InnWeightsException($"'{sourceName}' declares a degradation encoder of width {encoderWidth} (must be 1..1024).");
                }
                if (header.EncoderChannels is { } encoderChannels && encoderChannels != DegradationEncoder.ImageChannels)
                {
                    throw new InnWeightsException($"'{sourceName}' declares a degradation encoder of {encoderChannels} channels (must be the network's {options.Channels} or 3 for RGB images).");
                }
                var loaded = new DegradationEncoder(header.EncoderChannels ?? options.Channels, options.ConditionSize, encoderWidth);
                inn.Encoder = loaded;
                try
                {
                    loaded.load(reader, strict: true);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    throw new InnWeightsException($"'{sourceName}' is truncated or damaged: its degradation encoder (width {encoderWidth}) could not be read: {ex.Message}", ex);
                }
                ThrowIfNotFinite(loaded.state_dict(), sourceName);
            }
            catch
            {
                inn.Dispose();
                throw;
            }
        }
        foreach (var (key, value) in header.Metadata ?? [])
        {
            inn.Metadata[key] = value;
        }
        return inn;
    }

    /// <summary>Checks every entry against this network's keys and shapes, then copies them in (no_grad).</summary>
    internal void LoadStateDictEntries(IReadOnlyDictionary<string, Tensor> entries, string sourceName)
    {
        const string anchor = "lifts.0.p.net.convin.weight";
        var prefix = entries.Keys.Where(k => k.EndsWith(anchor, StringComparison.Ordinal))
            .Select(k => k[..^anchor.Length]).OrderBy(p => p.Length).FirstOrDefault() ?? OfficialKeyPrefix;
        var own = state_dict();
        var missing = new List<string>();
        var unexpected = new List<string>();
        var misShaped = new List<string>();
        var matched = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            var local = key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : null;
            if (local is null || !own.TryGetValue(local, out var target))
            {
                // A degradation encoder registered as a sibling module (RWNN(net_kdsr=...)) is not part of the INN.
                if (!key.Contains("kdsr", StringComparison.OrdinalIgnoreCase))
                {
                    unexpected.Add(key);
                }
            }
            else if (!target.shape.SequenceEqual(value.shape))
            {
                misShaped.Add($"{key} is [{string.Join(",", value.shape)}], expected [{string.Join(",", target.shape)}]");
            }
            else
            {
                matched[local] = value;
            }
        }
        foreach (var key in own.Keys)
        {
            if (!entries.ContainsKey(prefix + key))
            {
                missing.Add(prefix + key);
            }
        }
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add($"missing keys ({missing.Count}): {string.Join(", ", missing)}");
            }
            if (unexpected.Count > 0)
            {
                parts.Add($"unexpected keys ({unexpected.Count}): {string.Join(", ", unexpected)}");
            }
            if (misShaped.Count > 0)
            {
                parts.Add($"mis-shaped keys ({misShaped.Count}): {string.Join("; ", misShaped)}");
            }
            throw new InnWeightsException(
                $"The state dict in '{sourceName}' does not match this INN ({options}). " + string.Join(". ", parts) +
                ". Check that LiftingInnOptions (Channels, ResBlocks, Width, ConditionSize) match the weights.");
        }
        ThrowIfNotFinite(matched, sourceName);
        using var noGrad = no_grad();
        foreach (var (key, value) in matched)
        {
            own[key].copy_(value);
        }
    }

    /// <summary>
    /// Refuses weights holding NaN or ±∞ at load time: such a network would run for the whole restoration and only
    /// fail when the result is saved. The message lists the affected tensors.
    /// </summary>
    private static void ThrowIfNotFinite(IEnumerable<KeyValuePair<string, Tensor>> weights, string sourceName)
    {
        var bad = new List<string>();
        using (var scope = NewDisposeScope())
        {
            foreach (var (key, value) in weights)
            {
                if (value.is_floating_point() && !value.isfinite().all().item<bool>())
                {
                    bad.Add($"{key} ({value.isfinite().logical_not().sum().item<long>()} of {value.numel()} values)");
                }
            }
        }
        if (bad.Count > 0)
        {
            throw new InnWeightsException(
                $"'{sourceName}' holds NaN or infinite weights in {bad.Count} tensor(s): {string.Join(", ", bad.Take(5))}" +
                (bad.Count > 5 ? ", ..." : "") + ". The file is damaged or its training diverged: retrain it or use another file.");
        }
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        AtomicFile.Write(path, write);
    }

    private sealed class InnFileHeader
    {
        public int Channels { get; set; }
        public double Offset { get; set; }
        public int Levels { get; set; }
        public int ResBlocks { get; set; }
        public int Width { get; set; }
        public int ConditionSize { get; set; }
        public int? EncoderWidth { get; set; }
        public int? EncoderChannels { get; set; }
        public Dictionary<string, string>? Metadata { get; set; }
    }
}
