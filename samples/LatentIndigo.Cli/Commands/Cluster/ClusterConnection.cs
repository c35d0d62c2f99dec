using LatentIndigo.Orleans;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary>A client connection to a cluster, with the database and gateway failures turned into one readable line.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost host;

    private ClusterConnection(IHost host)
    {
        this.host = host;
        Jobs = new RestoreClusterClient(host.Services.GetRequiredService<IClusterClient>());
    }

    /// <summary>Submit, watch and cancel jobs.</summary>
    public RestoreClusterClient Jobs { get; }

    public static async Task<ClusterConnection> OpenAsync(ClusterSettings settings, CancellationToken cancellationToken)
    {
        await CheckDatabaseAsync(settings.ConnectionString, cancellationToken);
        var host = new HostBuilder()
            .UseOrleansClient(client => client
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = settings.ClusterId;
                    o.ServiceId = settings.ClusterId;
                })
                .UseLatentIndigoPostgres(settings.ConnectionString))
            .Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            host.Dispose();
            throw new CliUserException(
                $"Cannot connect to cluster '{settings.ClusterId}': {ex.Message} Is a silo of that cluster running on that database ('latent-indigo cluster silo')?");
        }
        return new ClusterConnection(host);
    }

    /// <summary>The database is reachable and has the schema; bad connection strings and servers as user errors.</summary>
    public static async Task CheckDatabaseAsync(string connectionString, CancellationToken cancellationToken, bool install = false)
    {
        try
        {
            if (install)
            {
                await PostgresSchema.InstallAsync(connectionString, cancellationToken);
            }
            else
            {
                await PostgresSchema.CheckAsync(connectionString, cancellationToken);
            }
        }
        catch (ArgumentException ex)
        {
            string message = ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
            throw new CliUserException($"--postgres: {message}");
        }
        catch (PostgresUnavailableException ex)
        {
            throw new CliUserException(ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        finally
        {
            host.Dispose();
        }
    }
}
