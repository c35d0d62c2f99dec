namespace LatentIndigo;

/// <summary>What the operating system said when a file operation failed, in words a user can act on.</summary>
internal enum IoCause
{
    /// <summary>Something else: the OS's own message is passed on.</summary>
    Other,

    /// <summary>ENOSPC / EDQUOT, or Windows' disk-full errors: nothing more can be written there.</summary>
    NoSpace,

    /// <summary>EACCES / EPERM (also an immutable file).</summary>
    PermissionDenied,

    /// <summary>EROFS: the file system is mounted read-only.</summary>
    ReadOnlyFileSystem,

    /// <summary>ENOENT: the file or a folder on its path does not exist.</summary>
    NotFound,

    /// <summary>ELOOP: the path goes through a symbolic link that points back into itself.</summary>
    SymlinkLoop,

    /// <summary>ENAMETOOLONG: a name is over 255 bytes or the path over the OS's limit.</summary>
    NameTooLong,
}

/// <summary>
/// Maps an I/O failure to its cause (from the exception type and, for a plain <see cref="IOException"/>, the errno that
/// .NET puts in <see cref="Exception.HResult"/> on Unix or the Win32 code in the low 16 bits of an HRESULT on Windows)
/// and a sentence naming the cause and the next step. One place for this, so every command says the same.
/// </summary>
internal static class IoFailure
{
    // errno values (Linux; macOS shares ENOENT, EACCES, ENOSPC, EPERM, EROFS and has ELOOP 62, ENAMETOOLONG 63, EDQUOT 69).
    private const int EPERM = 1, ENOENT = 2, EACCES = 13, ENOSPC = 28, EROFS = 30, ENAMETOOLONG = 36, ELOOP = 40, EDQUOT = 122;
    private const int MacELOOP = 62, MacENAMETOOLONG = 63, MacEDQUOT = 69;

    // Win32: ERROR_FILE_NOT_FOUND 2, ERROR_PATH_NOT_FOUND 3, ERROR_ACCESS_DENIED 5, ERROR_HANDLE_DISK_FULL 39,
    // ERROR_DISK_FULL 112, ERROR_CANT_RESOLVE_FILENAME 1921 (a link loop).
    private const int Win32FileNotFound = 2, Win32PathNotFound = 3, Win32AccessDenied = 5, Win32HandleDiskFull = 39, Win32DiskFull = 112, Win32LinkLoop = 1921;

    /// <summary>The cause of <paramref name="exception"/>, or <see cref="IoCause.Other"/>.</summary>
    public static IoCause Classify(Exception exception) => exception switch
    {
        UnauthorizedAccessException => IoCause.PermissionDenied,
        FileNotFoundException or DirectoryNotFoundException => IoCause.NotFound,
        PathTooLongException => IoCause.NameTooLong,
        IOException io => FromCode(io.HResult),
        _ => IoCause.Other,
    };

    /// <summary>Whether the disk (or the user's quota) is full.</summary>
    public static bool IsNoSpace(Exception exception) => Classify(exception) == IoCause.NoSpace;

    /// <summary>The cause in words with the OS's message, e.g. "no space left on the device (No space left on device)".</summary>
    public static string Describe(Exception exception)
    {
        string os = exception.Message.TrimEnd('.');
        return Classify(exception) switch
        {
            IoCause.NoSpace => $"no space left on the device ({os})",
            IoCause.PermissionDenied => $"permission denied ({os})",
            IoCause.ReadOnlyFileSystem => $"the file system is read-only ({os})",
            IoCause.NotFound => $"it does not exist ({os})",
            IoCause.SymlinkLoop => $"its path has a symbolic link loop ({os})",
            IoCause.NameTooLong => $"the name or path is too long ({os})",
            _ => os,
        };
    }

    /// <summary>What to do next, for a file being read (true), written (false), or either (null).</summary>
    public static string NextStep(Exception exception, bool? reading) => Classify(exception) switch
    {
        IoCause.NoSpace => "Free some space (or write to another disk), then run the same command again.",
        IoCause.PermissionDenied => reading switch
        {
            true => "Give your user read access to it (or copy it somewhere readable), then run the command again.",
            false => "Give your user write access to the folder, or choose another output.",
            null => "Give your user access to the file and its folder, then run the command again.",
        },
        IoCause.ReadOnlyFileSystem => reading == true
            ? "Check that the file is readable, then run the command again."
            : "Remount it read-write, or choose an output folder on another disk.",
        IoCause.NotFound => "Check the path (it may have been moved or deleted meanwhile).",
        IoCause.SymlinkLoop => "Point the link at the real file.",
        IoCause.NameTooLong => "Shorten the name (at most 255 bytes) or the path.",
        _ => reading == true ? "Check that the file is readable, then run the command again." : "Check the disk and the folder, then run the command again.",
    };

    /// <summary><see cref="Describe"/> and <see cref="NextStep"/> in one sentence.</summary>
    public static string Explain(Exception exception, bool? reading) => $"{Describe(exception)}. {NextStep(exception, reading)}";

    private static IoCause FromCode(int hresult)
    {
        if ((hresult & 0xFFFF0000) == 0x80070000)
        {
            return (hresult & 0xFFFF) switch
            {
                Win32DiskFull or Win32HandleDiskFull => IoCause.NoSpace,
                Win32AccessDenied => IoCause.PermissionDenied,
                Win32FileNotFound or Win32PathNotFound => IoCause.NotFound,
                Win32LinkLoop => IoCause.SymlinkLoop,
                _ => IoCause.Other,
            };
        }
        if (OperatingSystem.IsMacOS() || OperatingSystem.IsIOS())
        {
            return hresult switch
            {
                ENOSPC or MacEDQUOT => IoCause.NoSpace,
                EACCES or EPERM => IoCause.PermissionDenied,
                EROFS => IoCause.ReadOnlyFileSystem,
                ENOENT => IoCause.NotFound,
                MacELOOP => IoCause.SymlinkLoop,
                MacENAMETOOLONG => IoCause.NameTooLong,
                _ => IoCause.Other,
            };
        }
        return hresult switch
        {
            ENOSPC or EDQUOT => IoCause.NoSpace,
            EACCES or EPERM => IoCause.PermissionDenied,
            EROFS => IoCause.ReadOnlyFileSystem,
            ENOENT => IoCause.NotFound,
            ELOOP => IoCause.SymlinkLoop,
            ENAMETOOLONG => IoCause.NameTooLong,
            _ => IoCause.Other,
        };
    }
}
