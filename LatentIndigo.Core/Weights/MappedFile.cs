using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LatentIndigo.Weights;

/// <summary>
/// A weight file opened for random access. Small structures (headers, zip directories, pickles) are read through a
/// read-only memory map (<see cref="Span"/>); tensor data is read with plain positioned reads into the caller's bounded
/// buffer (<see cref="Read"/>), so converting a multi-gigabyte checkpoint keeps none of its pages resident in the process
/// (a mapped page, once touched, counts towards the process's resident memory until it is unmapped or released).
/// </summary>
internal sealed unsafe partial class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? map;
    private readonly MemoryMappedViewAccessor? view;
    private readonly byte* pointer;
    private readonly SafeFileHandle handle;

    public MappedFile(string path)
    {
        Path = path;
        handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.None); // normal readahead: tensors are read front to back in 4 MiB pieces
        try
        {
            Length = RandomAccess.GetLength(handle);
            if (Length == 0)
            {
                return; // an empty file cannot be mapped; every read is then out of range
            }
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            pointer = p + view.PointerOffset;
        }
        catch
        {
            view?.Dispose();
            map?.Dispose();
            handle.Dispose();
            throw;
        }
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>
    /// The mapped bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>), for small
    /// structures; the caller has checked the range. Bulk tensor data goes through <see cref="Read"/>.
    /// </summary>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        CheckRange(offset, length);
        return length == 0 ? default : new ReadOnlySpan<byte>(pointer + offset, length);
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/> (a positioned read, not through the map).</summary>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        while (destination.Length > 0)
        {
            int read = RandomAccess.Read(handle, destination, offset);
            if (read <= 0)
            {
                throw new IOException($"'{Path}' ended at byte {offset:N0} while reading (it changed while open?).");
            }
            destination = destination[read..];
            offset += read;
        }
    }

    /// <summary>
    /// Drops the mapped pages of [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>)
    /// from the process (they stay in the page cache) after a gather through <see cref="Span"/>, so they stop counting
    /// as resident. Best effort: a no-op where the OS offers no such call.
    /// </summary>
    public void Release(long offset, long length)
    {
        if (length <= 0 || pointer is null || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            return;
        }
        const long page = 4096; // madvise wants a page-aligned start; a larger page size only releases less
        long start = (long)(pointer + offset) & ~(page - 1);
        long end = (long)(pointer + Math.Min(Length, offset + length));
        try
        {
            _ = Madvise((nint)start, (nuint)(end - start), 4 /* MADV_DONTNEED (Linux and macOS) */);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Only memory accounting is lost.
        }
    }

    public void Dispose()
    {
        if (view is not null)
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
        }
        map?.Dispose();
        handle.Dispose();
    }

    private void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range {offset}+{length} lies outside '{Path}' ({Length} bytes).");
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
