using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace LatentIndigo.Orleans.Tests.Postgres;

/// <summary>
/// Real silo and client hosts (not the TestingHost's, whose membership is its own) on PostgreSQL clustering and job
/// state, each on free loopback ports, as a deployment would run them.
/// </summary>
internal static class PostgresSilo
{
    public static async Task<IHost> StartSiloAsync(string connectionString, string clusterId, ClusterFixture fixture, bool worker, TimeSpan leaseTimeout)
    {
        var host = new HostBuilder()
            .UseOrleans(silo =>
            {
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = clusterId;
                });
                silo.ConfigureEndpoints(IPAddress.Loopback, FreePort(), FreePort());
                // Quicker failure detection than the default, so a killed silo is declared dead within about ten seconds,
                // yet not so quick that a silo slowed by a loaded 2-core machine is voted dead.
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(2);
                    o.NumMissedProbesLimit = 3;
                    o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                });
                silo.UseLatentIndigoPostgres(connectionString);
                // Reads held half a second, so the job is still running when the test stops or kills the job's silo.
                silo.Services.AddSingleton<IImageStore>(new DelayedImageStore(TimeSpan.FromMilliseconds(500)));
                silo.AddLatentIndigoJobs(o =>
                {
                    o.LeaseTimeout = leaseTimeout;
                    o.RenewInterval = TimeSpan.FromMilliseconds(500);
                    o.PollInterval = TimeSpan.FromMilliseconds(200);
                });
                if (worker)
                {
                    silo.AddLatentIndigoWorkers(new WorkerModelSet(fixture.CreatePipeline));
                }
            })
            .Build();
        await host.StartAsync();
        return host;
    }

    public static async Task<IHost> StartClientAsync(string connectionString, string clusterId)
    {
        var host = new HostBuilder()
            .UseOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = clusterId;
                });
                client.UseLatentIndigoPostgres(connectionString);
            })
            .Build();
        await host.StartAsync();
        return host;
    }

    public static async Task StopAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        finally
        {
            host.Dispose();
        }
    }

    /// <summary>Stops a silo without the orderly shutdown (Orleans treats a cancelled stop as a crash: no deactivation, no
    /// "dead" row written by the silo itself), as the TestingHost's KillSiloAsync does.</summary>
    public static async Task KillAsync(IHost host)
    {
        try
        {
            await host.StopAsync(new CancellationToken(canceled: true));
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            host.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
