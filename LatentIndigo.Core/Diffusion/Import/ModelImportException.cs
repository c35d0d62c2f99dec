namespace LatentIndigo.Diffusion;

/// <summary>
/// A Stable Diffusion source (a diffusers folder or a single-file checkpoint) was read but cannot be imported as it is:
/// it is a kind of model LatentIndigo does not run (SDXL, SD 3, inpainting, named in the message), its tensors do not
/// fit the architecture assumed (missing, unexpected or misshapen tensors, each named), its layout is unknown, or it
/// does not say something that must be known (an SD 2.x model's prediction type). The message says which and what to
/// do next; <see cref="Problems"/> lists every problem found. Like every error the library reports about its input, it
/// is a <see cref="LatentIndigoException"/>: catch that to handle damaged files, bad options and refused models alike.
/// </summary>
public sealed class ModelImportException : LatentIndigoException
{
    /// <summary>Creates the exception for <paramref name="source"/> with its problems.</summary>
    public ModelImportException(string source, string summary, IReadOnlyList<string> problems)
        : base($"'{source}' cannot be imported: {summary}" + string.Concat(problems.Take(MaxListed).Select(p => Environment.NewLine + "  - " + p))
            + (problems.Count > MaxListed ? $"{Environment.NewLine}  … and {problems.Count - MaxListed} more." : ""))
    {
        Origin = source;
        Problems = problems;
    }

    /// <summary>One problem whose message is complete (it names <paramref name="source"/> itself).</summary>
    internal ModelImportException(string source, string message)
        : base(message)
    {
        Origin = source;
        Problems = [message];
    }

    private const int MaxListed = 12;

    /// <summary>The file or folder that was read.</summary>
    public string Origin { get; }

    /// <summary>Every problem found, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
