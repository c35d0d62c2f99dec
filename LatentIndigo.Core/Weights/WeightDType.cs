namespace LatentIndigo.Weights;

/// <summary>Element types a weight file may store. Only the floating-point ones can be read as float32.</summary>
internal enum WeightDType
{
    /// <summary>IEEE 754 binary32.</summary>
    Float32,
    /// <summary>IEEE 754 binary16 (half).</summary>
    Float16,
    /// <summary>bfloat16: the upper 16 bits of a binary32.</summary>
    BFloat16,
    /// <summary>IEEE 754 binary64.</summary>
    Float64,
    /// <summary>Signed 64-bit integer (e.g. position ids stored beside the weights).</summary>
    Int64,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>Signed 16-bit integer.</summary>
    Int16,
    /// <summary>Signed 8-bit integer.</summary>
    Int8,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8,
    /// <summary>One byte per boolean.</summary>
    Bool,
}

internal static class WeightDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this WeightDType dtype) => dtype switch
    {
        WeightDType.Float32 or WeightDType.Int32 => 4,
        WeightDType.Float16 or WeightDType.BFloat16 or WeightDType.Int16 => 2,
        WeightDType.Float64 or WeightDType.Int64 => 8,
        WeightDType.Int8 or WeightDType.UInt8 or WeightDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Whether <see cref="IWeightSource.ReadFloat32"/> can read this type.</summary>
    public static bool IsFloatingPoint(this WeightDType dtype) =>
        dtype is WeightDType.Float32 or WeightDType.Float16 or WeightDType.BFloat16 or WeightDType.Float64;

    /// <summary>The name the safetensors header uses (<c>F32</c>, <c>BF16</c>, ...).</summary>
    public static string SafetensorsName(this WeightDType dtype) => dtype switch
    {
        WeightDType.Float32 => "F32",
        WeightDType.Float16 => "F16",
        WeightDType.BFloat16 => "BF16",
        WeightDType.Float64 => "F64",
        WeightDType.Int64 => "I64",
        WeightDType.Int32 => "I32",
        WeightDType.Int16 => "I16",
        WeightDType.Int8 => "I8",
        WeightDType.UInt8 => "U8",
        WeightDType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Parses a safetensors dtype name; null for names this reader does not know (e.g. F8_E4M3).</summary>
    public static WeightDType? FromSafetensorsName(string name) => name switch
    {
        "F32" => WeightDType.Float32,
        "F16" => WeightDType.Float16,
        "BF16" => WeightDType.BFloat16,
        "F64" => WeightDType.Float64,
        "I64" => WeightDType.Int64,
        "I32" => WeightDType.Int32,
        "I16" => WeightDType.Int16,
        "I8" => WeightDType.Int8,
        "U8" => WeightDType.UInt8,
        "BOOL" => WeightDType.Bool,
        _ => null,
    };

    /// <summary>
    /// PyTorch's legacy typed-storage class names (<c>torch.FloatStorage</c>, ...), which torch.save writes into the
    /// persistent id of every storage; null for the ones this reader does not accept.
    /// </summary>
    public static WeightDType? FromTorchStorageName(string name) => name switch
    {
        "FloatStorage" => WeightDType.Float32,
        "HalfStorage" => WeightDType.Float16,
        "BFloat16Storage" => WeightDType.BFloat16,
        "DoubleStorage" => WeightDType.Float64,
        "LongStorage" => WeightDType.Int64,
        "IntStorage" => WeightDType.Int32,
        "ShortStorage" => WeightDType.Int16,
        "CharStorage" => WeightDType.Int8,
        "ByteStorage" => WeightDType.UInt8,
        "BoolStorage" => WeightDType.Bool,
        _ => null,
    };

    /// <summary>The inverse of <see cref="FromTorchStorageName"/>.</summary>
    public static string TorchStorageName(this WeightDType dtype) => dtype switch
    {
        WeightDType.Float32 => "FloatStorage",
        WeightDType.Float16 => "HalfStorage",
        WeightDType.BFloat16 => "BFloat16Storage",
        WeightDType.Float64 => "DoubleStorage",
        WeightDType.Int64 => "LongStorage",
        WeightDType.Int32 => "IntStorage",
        WeightDType.Int16 => "ShortStorage",
        WeightDType.Int8 => "CharStorage",
        WeightDType.UInt8 => "ByteStorage",
        WeightDType.Bool => "BoolStorage",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };
}
