using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary>What every <c>cluster</c> verb needs: the PostgreSQL database of the cluster (membership and job state) and the cluster id.</summary>
public class ClusterSettings : CommandSettings
{
    /// <summary>The environment variable read when <c>--postgres</c> is not given (keeps the password off the command line).</summary>
    public const string PostgresVariable = "LATENTINDIGO_POSTGRES";

    /// <summary>PostgreSQL connection string.</summary>
    [CommandOption("--postgres <CONNECTION>")]
    [Description("PostgreSQL connection string of the cluster's database (Host=...;Port=...;Username=...;Password=...;Database=...). Default: $LATENTINDIGO_POSTGRES.")]
    public string? Postgres { get; init; }

    /// <summary>Cluster id.</summary>
    [CommandOption("--cluster-id <ID>")]
    [Description("Cluster id: silos and clients with the same id and database form one cluster (default latentindigo).")]
    [DefaultValue("latentindigo")]
    public string ClusterId { get; init; } = "latentindigo";

    /// <summary>The connection string from the option or the environment.</summary>
    internal string ConnectionString => Postgres ?? Environment.GetEnvironmentVariable(PostgresVariable) ?? "";

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            return ValidationResult.Error($"The cluster's PostgreSQL database is needed: pass --postgres <connection string> or set {PostgresVariable}.");
        }
        if (string.IsNullOrWhiteSpace(ClusterId) || ClusterId.Length > 150)
        {
            return ValidationResult.Error("--cluster-id must be 1-150 characters.");
        }
        return ValidationResult.Success();
    }
}
