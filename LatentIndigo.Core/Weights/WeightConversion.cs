using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LatentIndigo.Weights;

/// <summary>Conversions between the stored element types and float32 (little-endian bytes, as every format here stores them).</summary>
internal static class WeightConversion
{
    /// <summary>Converts <paramref name="destination"/>.Length elements of <paramref name="dtype"/> from <paramref name="source"/>.</summary>
    public static void ToFloat32(ReadOnlySpan<byte> source, WeightDType dtype, Span<float> destination)
    {
        int n = destination.Length;
        if (!BitConverter.IsLittleEndian)
        {
            ToFloat32Scalar(source, dtype, destination);
            return;
        }
        switch (dtype)
        {
            case WeightDType.Float32:
                MemoryMarshal.Cast<byte, float>(source[..(4 * n)]).CopyTo(destination);
                break;
            case WeightDType.Float16:
                HalfToSingle(MemoryMarshal.Cast<byte, ushort>(source[..(2 * n)]), destination);
                break;
            case WeightDType.BFloat16:
                BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(source[..(2 * n)]), destination);
                break;
            default:
                ToFloat32Scalar(source, dtype, destination);
                break;
        }
    }

    /// <summary>One element at a time through <see cref="BinaryPrimitives"/> (any byte order; float64).</summary>
    internal static void ToFloat32Scalar(ReadOnlySpan<byte> source, WeightDType dtype, Span<float> destination)
    {
        int n = destination.Length;
        switch (dtype)
        {
            case WeightDType.Float32:
                for (int i = 0; i < n; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(4 * i, 4));
                }
                break;
            case WeightDType.Float16:
                for (int i = 0; i < n; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source.Slice(2 * i, 2));
                }
                break;
            case WeightDType.BFloat16:
                for (int i = 0; i < n; i++)
                {
                    destination[i] = BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i, 2)));
                }
                break;
            case WeightDType.Float64:
                for (int i = 0; i < n; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source.Slice(8 * i, 8));
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Only floating-point tensors convert to float32.");
        }
    }

    /// <summary>
    /// IEEE binary16 bit patterns to float32, exactly, eight or sixteen at a time. The sign moves from bit 15 to bit 31;
    /// for normal numbers the 15 exponent-and-mantissa bits shift left by 13 and the exponent bias grows by 112
    /// (127 − 15); infinities and NaNs (exponent 31) get exponent 255 (bias + 224) with their mantissa kept; zeros and
    /// subnormals are m·2⁻²⁴ with m below 1024, computed as an int-to-float conversion and one multiply (both exact).
    /// </summary>
    internal static void HalfToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        int n = destination.Length;
        int i = 0;
        ref ushort s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var halves = Vector256.LoadUnsafe(ref s, (nuint)i);
                HalfToSingle(Vector256.WidenLower(halves)).StoreUnsafe(ref d, (nuint)i);
                HalfToSingle(Vector256.WidenUpper(halves)).StoreUnsafe(ref d, (nuint)(i + 8));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var halves = Vector128.LoadUnsafe(ref s, (nuint)i);
                HalfToSingle(Vector128.WidenLower(halves)).StoreUnsafe(ref d, (nuint)i);
                HalfToSingle(Vector128.WidenUpper(halves)).StoreUnsafe(ref d, (nuint)(i + 4));
            }
        }
        for (; i < n; i++)
        {
            destination[i] = (float)BitConverter.UInt16BitsToHalf(source[i]);
        }
    }

    private static Vector256<float> HalfToSingle(Vector256<uint> h)
    {
        var magnitude = h & Vector256.Create(0x7FFFu);
        var sign = (h & Vector256.Create(0x8000u)) << 16;
        var shifted = magnitude << 13;
        var normal = shifted + Vector256.Create(112u << 23);
        var special = shifted + Vector256.Create(224u << 23);
        var subnormal = (Vector256.ConvertToSingle(magnitude.AsInt32()) * Vector256.Create(1f / 16777216f)).AsUInt32();
        var bits = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u)), special,
            Vector256.ConditionalSelect(Vector256.LessThan(magnitude, Vector256.Create(0x0400u)), subnormal, normal));
        return (bits | sign).AsSingle();
    }

    private static Vector128<float> HalfToSingle(Vector128<uint> h)
    {
        var magnitude = h & Vector128.Create(0x7FFFu);
        var sign = (h & Vector128.Create(0x8000u)) << 16;
        var shifted = magnitude << 13;
        var normal = shifted + Vector128.Create(112u << 23);
        var special = shifted + Vector128.Create(224u << 23);
        var subnormal = (Vector128.ConvertToSingle(magnitude.AsInt32()) * Vector128.Create(1f / 16777216f)).AsUInt32();
        var bits = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(magnitude, Vector128.Create(0x7C00u)), special,
            Vector128.ConditionalSelect(Vector128.LessThan(magnitude, Vector128.Create(0x0400u)), subnormal, normal));
        return (bits | sign).AsSingle();
    }

    /// <summary>bfloat16 bit patterns to float32 (the upper half of a float32: a widening shift, exact).</summary>
    internal static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        int n = destination.Length;
        int i = 0;
        ref ushort s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var halves = Vector256.LoadUnsafe(ref s, (nuint)i);
                (Vector256.WidenLower(halves) << 16).AsSingle().StoreUnsafe(ref d, (nuint)i);
                (Vector256.WidenUpper(halves) << 16).AsSingle().StoreUnsafe(ref d, (nuint)(i + 8));
            }
        }
        for (; i < n; i++)
        {
            destination[i] = BFloat16ToSingle(source[i]);
        }
    }

    /// <summary>Writes <paramref name="values"/> as <paramref name="dtype"/> (rounding to nearest even for fp16 and bf16).</summary>
    public static void FromFloat32(ReadOnlySpan<float> values, WeightDType dtype, Span<byte> destination)
    {
        int n = values.Length;
        switch (dtype)
        {
            case WeightDType.Float32:
                for (int i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination.Slice(4 * i, 4), values[i]);
                }
                break;
            case WeightDType.Float16:
                for (int i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination.Slice(2 * i, 2), (Half)values[i]);
                }
                break;
            case WeightDType.BFloat16:
                for (int i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(2 * i, 2), SingleToBFloat16(values[i]));
                }
                break;
            case WeightDType.Float64:
                for (int i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(destination.Slice(8 * i, 8), values[i]);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Only floating-point tensors are written from float32.");
        }
    }

    /// <summary>bfloat16 is the upper half of a float32: widening is exact.</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Rounds a float32 to bfloat16, to nearest with ties to even (as PyTorch does); NaN stays a quiet NaN.</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
