namespace LatentIndigo.StandIns;

/// <summary>A stand-in model folder in the temp directory, deleted on dispose.</summary>
public sealed class StandInFolder : IDisposable
{
    internal StandInFolder(string path) => Path = path;

    /// <summary>The folder (an SD ONNX export layout).</summary>
    public string Path { get; }

    /// <summary>Deletes the folder (best effort: a file still open elsewhere stays behind).</summary>
    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <inheritdoc />
    public override string ToString() => Path;
}
