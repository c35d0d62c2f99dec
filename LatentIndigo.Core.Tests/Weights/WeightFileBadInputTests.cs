using System.IO.Compression;
using System.Text;
using LatentIndigo.Weights;
using Xunit;

namespace LatentIndigo.Tests.Weights;

/// <summary>Each damaged or unsupported input is refused with a typed error that names the file and the fault.</summary>
public sealed class WeightFileBadInputTests : IDisposable
{
    private readonly TestData.TempFolder temp = TestData.NewTempFolder();

    public void Dispose() => temp.Dispose();

    private string Safetensors(string header, int dataBytes, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        var path = temp.File(Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static WeightFileException Refused(string path) => Assert.Throws<WeightFileException>(() => WeightFile.Open(path).Dispose());

    [Fact]
    public void Truncated_header_is_refused()
    {
        var path = Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, declaredLength: 500);
        var ex = Refused(path);
        Assert.Contains("truncated", ex.Message);
        Assert.Contains(Path.GetFileName(path), ex.Message);
    }

    [Fact]
    public void Oversized_header_is_refused_before_reading_it()
    {
        var ex = Refused(Safetensors("{}", 0, declaredLength: 1UL << 35));
        Assert.Contains("34,359,738,368 bytes", ex.Message);
        Assert.Contains("at most", ex.Message);
    }

    [Fact]
    public void Offsets_outside_the_file_are_refused_naming_the_tensor()
    {
        var ex = Refused(Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 8));
        Assert.Contains("'w'", ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Overlapping_tensors_are_refused()
    {
        var ex = Refused(Safetensors(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
        Assert.Contains("overlap", ex.Message);
        Assert.Contains("'a'", ex.Message);
        Assert.Contains("'b'", ex.Message);
    }

    [Fact]
    public void Shape_that_does_not_match_the_byte_range_is_refused()
    {
        var ex = Refused(Safetensors("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 8));
        Assert.Contains("'w'", ex.Message);
        Assert.Contains("12 bytes", ex.Message);
    }

    [Fact]
    public void Unknown_dtype_is_refused_by_name()
    {
        var ex = Refused(Safetensors("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4));
        Assert.Contains("F8_E4M3", ex.Message);
        Assert.Contains("'w'", ex.Message);
    }

    [Fact]
    public void Header_that_is_not_json_is_refused()
    {
        var ex = Refused(Safetensors("{\"w\": oops}", 0));
        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public void Unknown_format_and_missing_file_are_refused()
    {
        var junk = temp.File("junk.bin");
        File.WriteAllText(junk, "hello, this is not a weight file");
        Assert.Contains("neither a safetensors file nor a PyTorch checkpoint", Refused(junk).Message);
        Assert.Contains("does not exist", Refused(temp.File("missing.ckpt")).Message);
    }

    private string SmallCheckpoint()
    {
        var path = temp.File(Guid.NewGuid().ToString("N") + ".ckpt");
        TorchCheckpointWriter.WriteFile(path, [(new WeightInfo("w", WeightDType.Float32, [64]), new float[64])], nestUnder: "state_dict");
        return path;
    }

    [Fact]
    public void Truncated_checkpoint_is_refused()
    {
        var path = SmallCheckpoint();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 40)]);
        Assert.Contains("truncated", Refused(path).Message);
    }

    /// <summary>Rewrites every entry of a checkpoint with <paramref name="level"/>, optionally cutting the storage.</summary>
    private string Rezip(CompressionLevel level, int cutStorageBytes = 0)
    {
        var source = SmallCheckpoint();
        var path = temp.File(Guid.NewGuid().ToString("N") + ".ckpt");
        using (var input = ZipFile.OpenRead(source))
        using (var output = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var entry in input.Entries)
            {
                using var from = entry.Open();
                using var buffer = new MemoryStream();
                from.CopyTo(buffer);
                var data = buffer.ToArray();
                if (entry.FullName.EndsWith("/data/0", StringComparison.Ordinal))
                {
                    data = data[..(data.Length - cutStorageBytes)];
                }
                using var to = output.CreateEntry(entry.FullName, level).Open();
                to.Write(data);
            }
        }
        return path;
    }

    [Fact]
    public void Compressed_storage_is_refused_clearly()
    {
        var ex = Refused(Rezip(CompressionLevel.Optimal));
        Assert.Contains("compressed", ex.Message);
        Assert.Contains("'w'", ex.Message);
    }

    [Fact]
    public void Storage_shorter_than_its_tensor_is_refused()
    {
        var path = Rezip(CompressionLevel.NoCompression, cutStorageBytes: 16);
        using (var ok = WeightFile.Open(Rezip(CompressionLevel.NoCompression)))
        {
            Assert.Equal(["w"], ok.Names); // the rewritten archive itself is readable
        }
        var ex = Refused(path);
        Assert.Contains("storage '0'", ex.Message);
        Assert.Contains("240 bytes", ex.Message);
    }
}
