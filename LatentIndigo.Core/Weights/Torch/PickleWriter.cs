using System.Buffers.Binary;
using System.Text;

namespace LatentIndigo.Weights.Torch;

/// <summary>
/// Emits pickle protocol 2, the protocol torch.save uses, for the values a checkpoint holds: None, bool, integers,
/// floats, strings, dictionaries (plain or <c>collections.OrderedDict</c>), lists, tuples and tensor references.
/// </summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream output = new();

    public PickleWriter()
    {
        output.WriteByte(0x80);
        output.WriteByte(2);
    }

    public byte[] Finish()
    {
        output.WriteByte(0x2E); // STOP
        return output.ToArray();
    }

    public void Global(string module, string name)
    {
        output.WriteByte(0x63);
        output.Write(Encoding.UTF8.GetBytes(module + "\n" + name + "\n"));
    }

    public void Mark() => output.WriteByte(0x28);

    public void Op(byte opcode) => output.WriteByte(opcode);

    public void Int(long value)
    {
        Span<byte> b = stackalloc byte[8];
        if (value is >= 0 and <= 0xFF)
        {
            output.WriteByte(0x4B);
            output.WriteByte((byte)value);
        }
        else if (value is >= 0 and <= 0xFFFF)
        {
            output.WriteByte(0x4D);
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
            output.Write(b[..2]);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            output.WriteByte(0x4A);
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)value);
            output.Write(b[..4]);
        }
        else
        {
            output.WriteByte(0x8A); // LONG1: 8 bytes, two's complement little-endian
            output.WriteByte(8);
            BinaryPrimitives.WriteInt64LittleEndian(b, value);
            output.Write(b);
        }
    }

    public void String(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        output.WriteByte(0x58); // BINUNICODE
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(n, bytes.Length);
        output.Write(n);
        output.Write(bytes);
    }

    public void Value(object? value)
    {
        switch (value)
        {
            case null: output.WriteByte(0x4E); break;
            case bool b: output.WriteByte(b ? (byte)0x88 : (byte)0x89); break;
            case int i: Int(i); break;
            case long l: Int(l); break;
            case double d:
                {
                    output.WriteByte(0x47);
                    Span<byte> b = stackalloc byte[8];
                    BinaryPrimitives.WriteDoubleBigEndian(b, d);
                    output.Write(b);
                    break;
                }
            case string s: String(s); break;
            case IEnumerable<KeyValuePair<string, object?>> dict:
                output.WriteByte(0x7D); // EMPTY_DICT
                Items(dict);
                break;
            case object?[] tuple: Tuple(tuple.Length, i => Value(tuple[i])); break;
            case IEnumerable<object?> list:
                output.WriteByte(0x5D); // EMPTY_LIST
                Mark();
                foreach (var item in list)
                {
                    Value(item);
                }
                output.WriteByte(0x65); // APPENDS
                break;
            default:
                throw new ArgumentException($"Cannot pickle a {value.GetType().Name}.", nameof(value));
        }
    }

    /// <summary>SETITEMS of the pairs onto the dictionary on the stack.</summary>
    public void Items(IEnumerable<KeyValuePair<string, object?>> items, Action<string, object?>? writeValue = null)
    {
        Mark();
        foreach (var (k, v) in items)
        {
            String(k);
            (writeValue ?? ((_, x) => Value(x)))(k, v);
        }
        output.WriteByte(0x75);
    }

    /// <summary>A tuple of <paramref name="count"/> values written by <paramref name="item"/>.</summary>
    public void Tuple(int count, Action<int> item)
    {
        if (count == 0)
        {
            output.WriteByte(0x29);
            return;
        }
        if (count > 3)
        {
            Mark();
        }
        for (int i = 0; i < count; i++)
        {
            item(i);
        }
        output.WriteByte(count switch { 1 => 0x85, 2 => 0x86, 3 => 0x87, _ => 0x74 });
    }
}
