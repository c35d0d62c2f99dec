namespace LatentIndigo.Pipeline;

/// <summary>One or more <see cref="RestoreOptions"/> values are out of range; the message lists all of them.</summary>
public sealed class InvalidRestoreOptionsException(IReadOnlyList<string> problems)
    : LatentIndigoException("Invalid restore options:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", problems))
{
    /// <summary>Each problem, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}
