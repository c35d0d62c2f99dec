using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace LatentIndigo.Weights.Torch;

/// <summary>
/// A pickle virtual machine that executes no code: it understands the opcodes <c>torch.save</c> emits (protocol 2,
/// and the protocol 3-5 framing and string opcodes) and calls nothing. Globals are only names; a REDUCE is carried out
/// for the few callables that rebuild tensors and containers (<see cref="Reduce"/>), and any other global — for
/// example <c>os.system</c> or <c>builtins.eval</c> — stops the reading with a message naming it.
/// </summary>
internal sealed class RestrictedUnpickler
{
    // Callables a REDUCE may invoke (each re-implemented below, nothing is resolved), and types that may be named
    // only as values (storage classes in persistent ids) or rebuilt as inert placeholders (numpy scalars that
    // PyTorch Lightning stores in training state).
    private static readonly HashSet<string> InertTypes = new(StringComparer.Ordinal)
    {
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "torch.device",
    };

    private readonly byte[] data;
    private readonly Func<object?[], object?> persistentLoad;
    private readonly List<object?> stack = [];
    private readonly List<int> marks = [];
    private readonly Dictionary<long, object?> memo = [];
    private int position;

    private RestrictedUnpickler(byte[] data, Func<object?[], object?> persistentLoad)
    {
        this.data = data;
        this.persistentLoad = persistentLoad;
    }

    /// <summary>Reads one pickled object; <paramref name="persistentLoad"/> resolves persistent ids (storages).</summary>
    /// <exception cref="PickleException">The stream is malformed or names a refused global.</exception>
    public static object? Load(byte[] data, Func<object?[], object?> persistentLoad) =>
        new RestrictedUnpickler(data, persistentLoad).Run();

    private object? Run()
    {
        while (true)
        {
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: ReadBytes(8); break; // FRAME: framing only
                case 0x2E: return stack.Count == 1 ? stack[0] : throw new PickleException("STOP with a malformed stack"); // STOP
                case 0x28: marks.Add(stack.Count); break; // MARK
                case 0x4E: Push(null); break; // NONE
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case 0x4A: Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break; // BININT
                case 0x4B: Push((long)ReadByte()); break; // BININT1
                case 0x4D: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case 0x8A: Push(ReadLong(ReadByte())); break; // LONG1
                case 0x8B: Push(ReadLong(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))))); break; // LONG4
                case 0x47: Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case 0x58: Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(4)))); break; // BINUNICODE
                case 0x8C: Push(Encoding.UTF8.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8D: Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(8)))); break; // BINUNICODE8
                case 0x54: Push(Encoding.Latin1.GetString(ReadBytes(ReadLength(4)))); break; // BINSTRING
                case 0x55: Push(Encoding.Latin1.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
                case 0x42: Push(ReadBytes(ReadLength(4)).ToArray()); break; // BINBYTES
                case 0x43: Push(ReadBytes(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                case 0x8E: Push(ReadBytes(ReadLength(8)).ToArray()); break; // BINBYTES8
                case 0x7D: Push(new PickleDict()); break; // EMPTY_DICT
                case 0x5D: Push(new List<object?>()); break; // EMPTY_LIST
                case 0x29: Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case 0x74: Push(PopMark().ToArray()); break; // TUPLE
                case 0x85: Push(new[] { Pop() }); break; // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case 0x6C: Push(PopMark()); break; // LIST
                case 0x64: { var d = new PickleDict(); var items = PopMark(); SetItems(d, items); Push(d); break; } // DICT
                case 0x61: { var v = Pop(); AsList(Peek()).Add(v); break; } // APPEND
                case 0x65: { var items = PopMark(); AsList(Peek()).AddRange(items); break; } // APPENDS
                case 0x73: { var v = Pop(); var k = Pop(); AsDict(Peek()).Set(k, v); break; } // SETITEM
                case 0x75: { var items = PopMark(); SetItems(AsDict(Peek()), items); break; } // SETITEMS
                case 0x71: memo[ReadByte()] = Peek(); break; // BINPUT
                case 0x72: memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Peek(); break; // MEMOIZE
                case 0x68: Push(GetMemo(ReadByte())); break; // BINGET
                case 0x6A: Push(GetMemo(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case 0x30: Pop(); break; // POP
                case 0x31: PopMark(); break; // POP_MARK
                case 0x32: Push(Peek()); break; // DUP
                case 0x63: Push(Global(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: { var name = Pop(); var module = Pop(); Push(Global(AsString(module), AsString(name))); break; } // STACK_GLOBAL
                case 0x52: { var args = Pop(); var callable = Pop(); Push(Reduce(callable, AsTuple(args))); break; } // REDUCE
                case 0x81: { var args = Pop(); var cls = Pop(); Push(Reduce(cls, AsTuple(args))); break; } // NEWOBJ
                case 0x62: { var state = Pop(); Build(Peek(), state); break; } // BUILD
                case 0x51: Push(persistentLoad(AsTuple(Pop()))); break; // BINPERSID
                default:
                    throw new PickleException($"unsupported pickle opcode 0x{op:X2} at byte {position - 1}");
            }
        }
    }

    private static PickleGlobal Global(string module, string name)
    {
        var g = new PickleGlobal(module, name);
        string full = g.ToString();
        bool allowed = full is "collections.OrderedDict" or "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor"
                or "torch._utils._rebuild_parameter" or "torch._utils._rebuild_parameter_with_state" or "_codecs.encode"
                or "builtins.set" or "builtins.frozenset" or "__builtin__.set"
            || (module == "torch" && (WeightDTypes.FromTorchStorageName(name) is not null || name == "Size"))
            || InertTypes.Contains(full);
        return allowed
            ? g
            : throw new PickleException(
                $"the pickle refers to the Python global '{full}', which this reader refuses: only tensors, their storages and plain containers are read, and no code is ever run. "
                + "If the file comes from a source you trust, re-save only its weights (e.g. with safetensors)");
    }

    private static object? Reduce(object? callable, object?[] args)
    {
        if (callable is not PickleGlobal g)
        {
            throw new PickleException("REDUCE on something that is not a global");
        }
        switch (g.ToString())
        {
            case "collections.OrderedDict":
                if (args.Length != 0)
                {
                    throw new PickleException("OrderedDict built from arguments");
                }
                return new PickleDict();
            case "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor":
                if (args.Length < 4 || args[0] is not TorchStorage storage)
                {
                    throw new PickleException($"{g} called without a storage");
                }
                var shape = AsLongs(args[2], "size");
                var stride = AsLongs(args[3], "stride");
                if (shape.Length != stride.Length)
                {
                    throw new PickleException($"a tensor has size [{string.Join(",", shape)}] but stride [{string.Join(",", stride)}]");
                }
                return new TorchTensor(storage, AsLong(args[1], "storage offset"), shape, stride);
            case "torch._utils._rebuild_parameter" or "torch._utils._rebuild_parameter_with_state":
                return args.Length >= 1 && args[0] is TorchTensor t ? t : throw new PickleException($"{g} called without a tensor");
            case "_codecs.encode":
                // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1').
                return args.Length >= 1 && args[0] is string s ? Encoding.Latin1.GetBytes(s) : throw new PickleException("_codecs.encode without text");
            case "torch.Size":
                return args.Length == 1 ? args[0] : throw new PickleException("torch.Size with unexpected arguments");
            case "builtins.set" or "builtins.frozenset" or "__builtin__.set":
                return args.Length == 0 ? new List<object?>() : args[0] is List<object?> l ? l : throw new PickleException("set built from something that is not a list");
            default:
                if (InertTypes.Contains(g.ToString()))
                {
                    return new PickleOpaque(g);
                }
                // Storage classes may be named but never called.
                throw new PickleException($"the pickle calls '{g}', which this reader refuses (no code is ever run)");
        }
    }

    private static void Build(object? target, object? state)
    {
        // OrderedDict state (a state dict's _metadata attribute) and numpy placeholders' state carry nothing needed.
        if (target is PickleDict or PickleOpaque)
        {
            return;
        }
        throw new PickleException($"BUILD on a {target?.GetType().Name ?? "None"} value");
    }

    private static void SetItems(PickleDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0)
        {
            throw new PickleException("SETITEMS with an odd number of items");
        }
        for (int i = 0; i < items.Count; i += 2)
        {
            dict.Set(items[i], items[i + 1]);
        }
    }

    private object? ReadLong(int length)
    {
        var bytes = ReadBytes(length);
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private int ReadLength(int width)
    {
        ulong n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)) : BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));
        return n > (ulong)(data.Length - position) ? throw new PickleException($"a string of {n} bytes runs past the end of the pickle") : (int)n;
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(data, (byte)'\n', position);
        if (end < 0)
        {
            throw new PickleException("unterminated GLOBAL name");
        }
        string s = Encoding.UTF8.GetString(data, position, end - position);
        position = end + 1;
        return s;
    }

    private byte ReadByte() => position < data.Length ? data[position++] : throw new PickleException("the pickle ends before its STOP opcode (truncated)");

    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > data.Length - position)
        {
            throw new PickleException("the pickle ends in the middle of a value (truncated)");
        }
        var span = data.AsSpan(position, count);
        position += count;
        return span;
    }

    private void Push(object? value) => stack.Add(value);

    private object? Pop()
    {
        if (stack.Count == 0 || (marks.Count > 0 && marks[^1] == stack.Count))
        {
            throw new PickleException("stack underflow");
        }
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return v;
    }

    private object? Peek() => stack.Count > 0 ? stack[^1] : throw new PickleException("stack underflow");

    private List<object?> PopMark()
    {
        if (marks.Count == 0)
        {
            throw new PickleException("missing MARK");
        }
        int at = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        var items = stack.GetRange(at, stack.Count - at);
        stack.RemoveRange(at, stack.Count - at);
        return items;
    }

    private object? GetMemo(long key) => memo.TryGetValue(key, out var v) ? v : throw new PickleException($"memo key {key} not defined");

    private static List<object?> AsList(object? o) => o as List<object?> ?? throw new PickleException("APPEND to something that is not a list");

    private static PickleDict AsDict(object? o) => o as PickleDict ?? throw new PickleException("SETITEM on something that is not a dict");

    private static object?[] AsTuple(object? o) => o switch
    {
        object?[] t => t,
        List<object?> l => l.ToArray(),
        _ => throw new PickleException("expected a tuple"),
    };

    private static string AsString(object? o) => o as string ?? throw new PickleException("expected a string");

    private static long AsLong(object? o, string what) => o is long l ? l : throw new PickleException($"a tensor's {what} is not an integer");

    private static long[] AsLongs(object? o, string what) => AsTuple(o).Select(x => AsLong(x, what)).ToArray();
}
