namespace LatentIndigo.Orleans;

/// <summary>A cluster job: the images (by URI), where their outputs go, and the settings.</summary>
[GenerateSerializer, Immutable]
public sealed record RestoreJobSpec
{
    /// <summary>The inputs' URIs (<c>file:///shared/in/a.png</c>; other schemes need an <see cref="IImageStore"/> that serves them).</summary>
    [Id(0)] public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>The output folder's URI: each output is <c>{folder}/{input name}.png</c>.</summary>
    [Id(1)] public required string OutputFolder { get; init; }

    /// <summary>The restoration settings.</summary>
    [Id(2)] public ClusterRestoreSettings Settings { get; init; } = new();

    /// <summary>A job over every image (PNG, JPEG, WebP, BMP) of a shared folder, writing into another shared folder.</summary>
    public static RestoreJobSpec FromFolders(string inputFolder, string outputFolder, ClusterRestoreSettings settings)
    {
        var images = LatentIndigo.Batch.BatchInputs.FromFolder(inputFolder);
        return new RestoreJobSpec
        {
            Inputs = images.Select(i => new Uri(i.InputPath).AbsoluteUri).ToList(),
            OutputFolder = new Uri(Path.GetFullPath(outputFolder)).AbsoluteUri,
            Settings = settings,
        };
    }

    /// <summary>The output URI of an input.</summary>
    public string OutputFor(string input) =>
        OutputFolder.TrimEnd('/') + "/" + Uri.EscapeDataString(Path.GetFileNameWithoutExtension(Uri.UnescapeDataString(new Uri(input).Segments[^1])) + ".png");
}
