using System.Buffers.Binary;

namespace LatentIndigo.Weights;

/// <summary>Conversions between the stored element types and float32 (little-endian bytes, as every format here stores them).</summary>
internal static class WeightConversion
{
    /// <summary>Converts <paramref name="destination"/>.Length elements of <paramref name="dtype"/> from <paramref name="source"/>.</summary>
    public static void ToFloat32(ReadOnlySpan<byte> source, WeightDType dtype, Span<float> destination)
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
