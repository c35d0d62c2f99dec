using System.Net.Sockets;
using Npgsql;

namespace LatentIndigo.Orleans;

/// <summary>
/// The PostgreSQL schema that Orleans' ADO.NET clustering and grain-storage providers need (tables, functions and the
/// <c>OrleansQuery</c> texts they read at start-up): this project's own, shipped in the assembly. Orleans' NuGet packages
/// carry no schema, so a silo or the <c>silo</c> host installs this one before it starts.
/// </summary>
public static class PostgresSchema
{
    /// <summary>The ADO.NET invariant name the Orleans providers use for Npgsql.</summary>
    public const string Invariant = "Npgsql";

    // Any fixed number: it only keeps two silos starting at once from creating the same tables concurrently.
    private const long InstallLockKey = 0x4C6174656E74;

    /// <summary>The SQL script (idempotent: safe to run on every start; it replaces the query texts with this version's).</summary>
    public static string Script { get; } = ReadScript();

    /// <summary>
    /// Creates or updates the schema in the database <paramref name="connectionString"/> names (which must exist), in
    /// one transaction.
    /// </summary>
    /// <exception cref="ArgumentException">The connection string is not a valid Npgsql connection string.</exception>
    /// <exception cref="PostgresUnavailableException">The server cannot be reached, refuses the login, or has no such database.</exception>
    public static async Task InstallAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = Parse(connectionString);
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({InstallLockKey})", connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var command = new NpgsqlCommand(Script, connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unreachable(ex))
        {
            throw new PostgresUnavailableException(Describe(builder, ex), ex);
        }
    }

    /// <summary>
    /// Checks that the database can be reached and holds the schema (for clients, which do not install it), so that a
    /// wrong connection string fails with a clear message instead of inside Orleans' start-up.
    /// </summary>
    /// <exception cref="ArgumentException">The connection string is not a valid Npgsql connection string.</exception>
    /// <exception cref="PostgresUnavailableException">Unreachable, login refused, no such database, or no schema in it.</exception>
    public static async Task CheckAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = Parse(connectionString);
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT to_regclass('orleansquery') IS NOT NULL", connection);
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                throw new PostgresUnavailableException(
                    $"PostgreSQL at {builder.Host}:{builder.Port}, database '{builder.Database}', has no LatentIndigo cluster schema: start a silo on it first (silos install it) or call PostgresSchema.InstallAsync.", null);
            }
        }
        catch (Exception ex) when (Unreachable(ex))
        {
            throw new PostgresUnavailableException(Describe(builder, ex), ex);
        }
    }

    /// <summary>Parses and checks a connection string, naming what is wrong with it.</summary>
    /// <exception cref="ArgumentException">Not a valid Npgsql connection string, or it names no host.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException("The PostgreSQL connection string is empty (expected e.g. \"Host=db;Port=5432;Username=orleans;Password=...;Database=latentindigo\").", nameof(connectionString));
        }
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            string why = ex is ArgumentException { ParamName: { } name } ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
            throw new ArgumentException($"Not a PostgreSQL connection string: {why} (expected e.g. \"Host=db;Port=5432;Username=orleans;Password=...;Database=latentindigo\").", nameof(connectionString), ex);
        }
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ArgumentException("The PostgreSQL connection string names no Host (expected e.g. \"Host=db;Port=5432;Username=orleans;Password=...;Database=latentindigo\").", nameof(connectionString));
        }
        return builder;
    }

    private static bool Unreachable(Exception ex) => ex is NpgsqlException or SocketException or TimeoutException;

    private static string Describe(NpgsqlConnectionStringBuilder builder, Exception ex)
    {
        // The password is never echoed.
        string where = $"PostgreSQL at {builder.Host}:{builder.Port}, database '{builder.Database}', user '{builder.Username}'";
        string why = ex is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : ex.InnerException?.Message ?? ex.Message;
        return $"Cannot use {where}: {why}. Check that the server runs and accepts connections there, that the database exists and that the user may log in and create tables.";
    }

    private static string ReadScript()
    {
        using var stream = typeof(PostgresSchema).Assembly.GetManifestResourceStream("LatentIndigo.Orleans.PostgreSql.schema.sql")
            ?? throw new InvalidOperationException("The PostgreSQL schema resource is missing from LatentIndigo.Orleans (a build problem).");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
