namespace LatentIndigo.Orleans;

/// <summary>The PostgreSQL database for clustering and job state cannot be used (unreachable, login refused, no such database).</summary>
public sealed class PostgresUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PostgresUnavailableException(string message, Exception? inner) : base(message, inner)
    {
    }
}
