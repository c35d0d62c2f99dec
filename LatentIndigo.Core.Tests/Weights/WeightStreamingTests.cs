using LatentIndigo.Diffusion.Architecture;
using LatentIndigo.Weights;
using Xunit;

namespace LatentIndigo.Tests.Weights;

/// <summary>
/// The bulk paths of the weight readers (issue 22, speed and memory): the vectorised fp16/bf16 widening against the
/// IEEE 754 / bfloat16 definitions evaluated in float64 for every one of the 65,536 bit patterns; tensors larger than
/// the readers' bounded buffer read back exactly, whole and as row slices (OpenCLIP's fused q/k/v thirds); the tiled
/// transpose of linear weights against the index definition.
/// </summary>
public sealed class WeightStreamingTests : IDisposable
{
    private readonly TestData.TempFolder temp = TestData.NewTempFolder();

    public void Dispose() => temp.Dispose();

    // The definition: (−1)^s · 2^(e − bias) · (1 + m / 2^mantissaBits), subnormals (e = 0) 2^(1 − bias) · m / 2^mantissaBits.
    private static double Definition(int bits, int exponentBits, int mantissaBits)
    {
        int bias = (1 << (exponentBits - 1)) - 1;
        int sign = bits >> (exponentBits + mantissaBits);
        int e = (bits >> mantissaBits) & ((1 << exponentBits) - 1);
        int m = bits & ((1 << mantissaBits) - 1);
        double magnitude = e == (1 << exponentBits) - 1
            ? (m == 0 ? double.PositiveInfinity : double.NaN)
            : e == 0 ? Math.ScaleB(m, 1 - bias - mantissaBits) : Math.ScaleB(1 + m / (double)(1 << mantissaBits), e - bias);
        return sign == 1 ? -magnitude : magnitude;
    }

    [Theory]
    [InlineData("F16", 5, 10)]
    [InlineData("BF16", 8, 7)]
    public void Every_bit_pattern_widens_to_its_definition(string dtypeName, int exponentBits, int mantissaBits)
    {
        var dtype = WeightDTypes.FromSafetensorsName(dtypeName)!.Value;
        // 3 leading patterns shift the vector loop off alignment; the odd total length leaves a scalar tail.
        var patterns = Enumerable.Range(0, 3).Concat(Enumerable.Range(0, 1 << 16)).Concat(Enumerable.Range(0, 5)).ToArray();
        var bytes = new byte[2 * patterns.Length];
        for (int i = 0; i < patterns.Length; i++)
        {
            bytes[2 * i] = (byte)patterns[i];
            bytes[2 * i + 1] = (byte)(patterns[i] >> 8);
        }
        var values = new float[patterns.Length];
        WeightConversion.ToFloat32(bytes, dtype, values);
        for (int i = 0; i < patterns.Length; i++)
        {
            double expected = Definition(patterns[i], exponentBits, mantissaBits);
            if (double.IsNaN(expected))
            {
                Assert.True(float.IsNaN(values[i]), $"pattern 0x{patterns[i]:X4}");
                Assert.Equal(patterns[i] >> 15, (int)(BitConverter.SingleToUInt32Bits(values[i]) >> 31));
            }
            else
            {
                // Every value of both types is a float32: equal exactly, and the sign of zero kept.
                Assert.True((double)values[i] == expected && (values[i] != 0 || float.IsNegative(values[i]) == (patterns[i] >> 15 == 1)),
                    $"pattern 0x{patterns[i]:X4}: {values[i]} instead of {expected}");
            }
        }
    }

    [Theory]
    [InlineData("F16", "safetensors")]
    [InlineData("BF16", "safetensors")]
    [InlineData("F32", "safetensors")]
    [InlineData("F16", "ckpt")]
    public void Tensors_larger_than_the_read_buffer_read_back_exactly_whole_and_by_rows(string dtypeName, string format)
    {
        var dtype = WeightDTypes.FromSafetensorsName(dtypeName)!.Value;
        // [3·1031, 1031] in fp32 is 12.8 MB, in fp16 6.4 MB: more than the readers' 4 MiB buffer, and not a multiple of it.
        const int width = 1031;
        var random = new Random(22);
        var values = Enumerable.Range(0, 3 * width * width).Select(_ => random.Next(-128, 128) / 64f).ToArray(); // exact in fp16/bf16
        var small = new[] { 0.5f, -1.25f };
        var tensors = new List<(WeightInfo, float[])>
        {
            (new WeightInfo("before", dtype, [2]), small),
            (new WeightInfo("attn.in_proj_weight", dtype, [3 * width, width]), values),
            (new WeightInfo("after", dtype, [2]), small),
        };
        var path = temp.File("big." + format);
        if (format == "ckpt")
        {
            TorchCheckpointWriter.WriteFile(path, tensors);
        }
        else
        {
            SafetensorsWriter.WriteFile(path, tensors);
        }
        using var source = WeightFile.Open(path);
        var whole = new float[values.Length];
        source.ReadFloat32("attn.in_proj_weight", whole);
        Assert.Equal(values, whole);
        for (int third = 0; third < 3; third++)
        {
            var rows = new float[width * width];
            source.ReadFloat32Range("attn.in_proj_weight", (long)third * width * width, rows);
            Assert.Equal(values.AsSpan(third * width * width, width * width).ToArray(), rows);
        }
        var after = new float[2];
        source.ReadFloat32("after", after);
        Assert.Equal(small, after);
        var error = Assert.Throws<WeightFileException>(() => source.ReadFloat32Range("after", 1, new float[2]));
        Assert.Contains("outside tensor 'after'", error.Message);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(45, 70)]
    [InlineData(64, 32)]
    [InlineData(33, 97)]
    public void Tiled_transpose_matches_the_definition(int rows, int cols)
    {
        var source = Enumerable.Range(0, rows * cols).Select(i => (float)i).ToArray();
        var result = new float[rows * cols];
        SdGraphLayers.Transpose(source, rows, cols, result);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                Assert.Equal(r * cols + c, result[c * rows + r]); // destination [cols, rows] holds source [r, c] at [c, r]
            }
        }
    }
}
