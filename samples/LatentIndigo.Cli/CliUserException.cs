namespace LatentIndigo.Cli;

/// <summary>A mistake in the command line or its files, reported as one readable line (exit code 1), no stack trace.</summary>
public sealed class CliUserException(string message) : Exception(message);
