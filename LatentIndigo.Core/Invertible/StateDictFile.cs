using LatentIndigo.Weights;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// PyTorch state dicts as TorchSharp tensors, through the library's own weight readers and writers
/// (<see cref="WeightFile"/>, <see cref="TorchCheckpointWriter"/>): no code in the file is ever run.
/// </summary>
internal static class StateDictFile
{
    /// <summary>
    /// Every floating-point tensor of <paramref name="path"/> (a torch.save checkpoint or a safetensors file) as a
    /// float32 CPU tensor, by name (nested dictionaries give dotted names; a top-level <c>state_dict</c> is unwrapped).
    /// Non-floating-point tensors (e.g. BatchNorm counters) are returned in <paramref name="skipped"/>.
    /// </summary>
    /// <exception cref="WeightFileException">The file is missing, damaged or refers to anything but tensors.</exception>
    public static Dictionary<string, Tensor> Read(string path, out IReadOnlyList<string> skipped)
    {
        using var source = WeightFile.Open(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var notFloat = new List<string>();
        try
        {
            foreach (var name in source.Names)
            {
                var info = source.Info(name);
                if (!info.DType.IsFloatingPoint())
                {
                    notFloat.Add(name);
                    continue;
                }
                var values = new float[info.ElementCount];
                source.ReadFloat32(name, values);
                result[name] = tensor(values, info.Shape);
            }
        }
        catch
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }
            throw;
        }
        skipped = notFloat;
        return result;
    }

    /// <summary>Writes the tensors (as float32) as <c>torch.save(state_dict, path)</c> would, atomically.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors) =>
        AtomicFile.Write(path, stream => Write(stream, tensors));

    /// <summary>Writes the tensors (as float32) as <c>torch.save(state_dict, ...)</c> would, to a seekable stream.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var infos = tensors.Select(kv => new WeightInfo(kv.Key, WeightDType.Float32, kv.Value.shape)).ToList();
        using var writer = new TorchCheckpointWriter(stream, infos);
        foreach (var (name, value) in tensors)
        {
            using var cpu = value.detach().cpu().to(float32).contiguous();
            writer.Write(name, cpu.data<float>().ToArray());
        }
        writer.Complete();
    }
}
