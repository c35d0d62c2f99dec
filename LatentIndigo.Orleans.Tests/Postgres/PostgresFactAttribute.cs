using Xunit;

namespace LatentIndigo.Orleans.Tests.Postgres;

/// <summary>
/// A test that needs a real PostgreSQL server, named by <c>LATENTINDIGO_TEST_POSTGRES</c> (a connection string;
/// <c>.ci/run</c> starts a throwaway server with tools/postgres-throwaway.sh and sets it). Without it the test is skipped,
/// and the skip names why: the script's reason when it could not start a server, else how to provide one.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>The environment variable with the connection string.</summary>
    public const string Variable = "LATENTINDIGO_TEST_POSTGRES";

    public PostgresFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            string? reason = Environment.GetEnvironmentVariable("LATENTINDIGO_TEST_POSTGRES_SKIP_REASON");
            Skip = reason is { Length: > 0 }
                ? $"PostgreSQL could not be started: {reason}"
                : $"No PostgreSQL server: set {Variable} to a connection string, or run `source tools/postgres-throwaway.sh start` (what .ci/run does).";
        }
    }

    /// <summary>The connection string, or null.</summary>
    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable);
}
