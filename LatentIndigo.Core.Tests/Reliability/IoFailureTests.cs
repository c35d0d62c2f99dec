using LatentIndigo.Batch;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Tests.Batch;
using Xunit;

namespace LatentIndigo.Tests.Reliability;

/// <summary>
/// Issue 26, item 9: an OS error is reported by its cause and the next step, and a full disk stops a batch instead of
/// failing every remaining image.
/// </summary>
public class IoFailureTests
{
    private static readonly RestoreOptions Options = RestoreOptions.Default with { Strategy = GuidanceStrategy.InnOnly, Steps = 10 };

    [Theory]
    [InlineData(28, "NoSpace")]      // ENOSPC
    [InlineData(122, "NoSpace")]     // EDQUOT
    [InlineData(13, "PermissionDenied")] // EACCES
    [InlineData(2, "NotFound")]      // ENOENT
    [InlineData(30, "ReadOnlyFileSystem")] // EROFS
    [InlineData(1, "PermissionDenied")]  // EPERM (chattr +i)
    [InlineData(40, "SymlinkLoop")]  // ELOOP
    [InlineData(5, "Other")]         // EIO: the OS's own words
    [InlineData(unchecked((int)0x80070070), "NoSpace")] // Windows ERROR_DISK_FULL
    [InlineData(unchecked((int)0x80070005), "PermissionDenied")] // Windows ERROR_ACCESS_DENIED
    public void Errno_and_HResult_codes_map_to_their_cause(int code, string expected)
    {
        if (OperatingSystem.IsMacOS() && code == 40)
        {
            return; // ELOOP is 62 there
        }
        Assert.Equal(Enum.Parse<IoCause>(expected), IoFailure.Classify(new IOException("os words", code)));
    }

    [Fact]
    public void Exception_types_map_to_their_cause_and_each_cause_has_its_own_next_step()
    {
        Assert.Equal(IoCause.PermissionDenied, IoFailure.Classify(new UnauthorizedAccessException("Access to the path is denied.")));
        Assert.Equal(IoCause.NotFound, IoFailure.Classify(new FileNotFoundException("gone")));
        Assert.Equal(IoCause.NotFound, IoFailure.Classify(new DirectoryNotFoundException("gone")));
        string full = IoFailure.Explain(new IOException("No space left on device", 28), reading: false);
        Assert.StartsWith("no space left on the device (No space left on device). Free some space", full);
        Assert.Contains("read access", IoFailure.Explain(new UnauthorizedAccessException("denied"), reading: true));
        Assert.Contains("write access", IoFailure.Explain(new UnauthorizedAccessException("denied"), reading: false));
        Assert.DoesNotContain("report", full, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_symbolic_link_loop_is_named_as_a_loop_not_as_a_missing_or_corrupt_file()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // creating symbolic links needs a privilege there
        }
        using var folder = TestData.NewTempFolder();
        File.CreateSymbolicLink(folder.File("a.png"), folder.File("b.png"));
        File.CreateSymbolicLink(folder.File("b.png"), folder.File("a.png"));
        var refused = Assert.Throws<ImageUnreadableException>(() => ImageIO.Load(folder.File("a.png")));
        Assert.Contains("symbolic link loop", refused.Message);
        Assert.Contains("Point the link at the real file", refused.Message);
        Assert.Throws<ImageNotFoundException>(() => ImageIO.Load(folder.File("missing.png")));
    }

    [Fact]
    public async Task A_full_disk_stops_the_batch_keeps_what_is_done_and_a_resume_ends_with_a_fresh_runs_bytes()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 5);
        var images = BatchInputs.FromFolder(inputs);
        string output = folder.File("out");
        var restorer = new NearestRestorer();
        using (var batch = RestoreBatch.Create(images, output, Options))
        {
            int writes = 0;
            // The disk fills up at the third output: an injected ENOSPC, as the OS reports it.
            batch.WriteOutput = (path, bytes) =>
            {
                if (++writes >= 3)
                {
                    throw new ImageSaveException(path, "No space left on device", new IOException("No space left on device", 28));
                }
                ImageIO.WriteAtomically(path, bytes);
            };
            var stopped = await Assert.ThrowsAsync<BatchStoppedException>(() => batch.RunAsync(restorer));
            Assert.Contains("no space left on the device", stopped.Message);
            Assert.Contains("--resume", stopped.Message);
            Assert.Equal(3, restorer.Calls); // not one failure per remaining image
            Assert.Equal([BatchImageState.Done, BatchImageState.Done, BatchImageState.Pending, BatchImageState.Pending, BatchImageState.Pending],
                batch.Images().Select(i => i.State));
        }
        using (var batch = RestoreBatch.Resume(images, output, Options))
        {
            var report = await batch.RunAsync(new NearestRestorer());
            Assert.Equal((5, 0, 3), (report.Done, report.Failed, report.RestoredThisRun));
        }
        using (var fresh = RestoreBatch.Create(images, folder.File("fresh"), Options))
        {
            await fresh.RunAsync(new NearestRestorer());
        }
        foreach (var name in Directory.GetFiles(folder.File("fresh"), "*.png").Select(Path.GetFileName))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder.File("fresh"), name!)), File.ReadAllBytes(Path.Combine(output, name!)));
        }
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
    }
}
