namespace LatentIndigo.Diffusion;

/// <summary>
/// A checkpoint cannot be imported: its tensors do not fit the architecture assumed (missing, unexpected or misshapen
/// tensors), or it is a kind of model LatentIndigo does not run. <see cref="Problems"/> lists every problem found.
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

    private const int MaxListed = 12;

    /// <summary>The file or folder that was read.</summary>
    public string Origin { get; }

    /// <summary>Every problem found, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
