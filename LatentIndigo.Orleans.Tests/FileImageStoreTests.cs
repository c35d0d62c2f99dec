using System.Text;
using Xunit;

namespace LatentIndigo.Orleans.Tests;

/// <summary>
/// The file store writes through the library's atomic write (issue 26): a name of up to 255 bytes can be written (its
/// own temporary name used to be 38 bytes longer than the target's, so names over 217 bytes failed after the work), no
/// temporary file stays behind, and an existing output is never replaced by other bytes.
/// </summary>
public class FileImageStoreTests
{
    [Theory]
    [InlineData(217)]
    [InlineData(251)]
    [InlineData(255)]
    public async Task Names_up_to_255_bytes_are_written_without_leaving_a_temporary_file(int nameBytes)
    {
        string folder = Directory.CreateTempSubdirectory("latentindigo-store-").FullName;
        try
        {
            // Two-byte characters too: the temporary name must be cut at a character boundary.
            string name = "é" + new string('n', nameBytes - 2 - 4) + ".png";
            Assert.Equal(nameBytes, Encoding.UTF8.GetByteCount(name));
            var uri = new Uri(Path.Combine(folder, name));
            var store = new FileImageStore();
            byte[] bytes = [1, 2, 3, 4];
            Assert.True(await store.WriteAsync(uri, bytes));
            Assert.Equal(bytes, await store.ReadAsync(uri));
            Assert.False(await store.WriteAsync(uri, bytes)); // the same bytes again: nothing to do
            await Assert.ThrowsAsync<IOException>(() => store.WriteAsync(uri, [9]));
            Assert.Equal([name], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
