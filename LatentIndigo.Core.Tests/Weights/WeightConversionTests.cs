using LatentIndigo.Weights;
using Xunit;

namespace LatentIndigo.Tests.Weights;

/// <summary>fp16 and bf16 bit patterns against values worked out by hand from the IEEE 754 / bfloat16 definitions.</summary>
public class WeightConversionTests
{
    private static float FromBits(WeightDType dtype, ushort bits)
    {
        var bytes = new[] { (byte)(bits & 0xFF), (byte)(bits >> 8) };
        var value = new float[1];
        WeightConversion.ToFloat32(bytes, dtype, value);
        return value[0];
    }

    [Theory]
    [InlineData((ushort)0x3C00, 1.0f)]            // exponent 15 (bias 15), mantissa 0
    [InlineData((ushort)0xC000, -2.0f)]           // sign, exponent 16
    [InlineData((ushort)0x3555, 0.333251953125f)] // 2^-2 · (1 + 0x155/1024)
    [InlineData((ushort)0x7BFF, 65504f)]          // largest finite half: 2^15 · (2 − 2^-10)
    [InlineData((ushort)0x0001, 5.9604644775390625E-08f)] // smallest subnormal: 2^-24
    [InlineData((ushort)0x8000, -0.0f)]
    public void Half_bits_convert_to_the_hand_computed_value(ushort bits, float expected) =>
        Assert.Equal(expected, FromBits(WeightDType.Float16, bits));

    [Fact]
    public void Half_infinity_and_nan_stay_special()
    {
        Assert.Equal(float.PositiveInfinity, FromBits(WeightDType.Float16, 0x7C00));
        Assert.True(float.IsNaN(FromBits(WeightDType.Float16, 0x7E00)));
    }

    [Theory]
    [InlineData((ushort)0x3F80, 1.0f)]      // the upper half of 0x3F800000
    [InlineData((ushort)0x4049, 3.140625f)] // 2 · (1 + 0x49/128)
    [InlineData((ushort)0xBF00, -0.5f)]
    [InlineData((ushort)0x0001, 9.18354961579912E-41f)] // 2^-133, a float32 subnormal
    public void Bfloat16_bits_convert_to_the_hand_computed_value(ushort bits, float expected) =>
        Assert.Equal(expected, FromBits(WeightDType.BFloat16, bits));

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // 1 + 2^-8: a tie, kept even (down)
    [InlineData(0x3F818000u, (ushort)0x3F82)] // 1 + 3·2^-8: a tie, rounded to even (up)
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above the tie: up
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // just below: down
    public void Float_rounds_to_bfloat16_to_nearest_even(uint floatBits, ushort expected) =>
        Assert.Equal(expected, WeightConversion.SingleToBFloat16(BitConverter.UInt32BitsToSingle(floatBits)));

    [Fact]
    public void Writing_half_rounds_to_nearest_and_reads_back()
    {
        float[] values = [0.1f, 1f / 3f, -2.5f, 70000f];
        var bytes = new byte[8];
        WeightConversion.FromFloat32(values, WeightDType.Float16, bytes);
        var back = new float[4];
        WeightConversion.ToFloat32(bytes, WeightDType.Float16, back);
        // 70000 is above the largest half (65504 + half an ulp = 65520): it becomes infinity.
        Assert.Equal([0.0999755859375f, 0.333251953125f, -2.5f, float.PositiveInfinity], back);
    }
}
