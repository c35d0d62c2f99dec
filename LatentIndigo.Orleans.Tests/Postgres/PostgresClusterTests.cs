using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit;

namespace LatentIndigo.Orleans.Tests.Postgres;

/// <summary>A cluster on a real PostgreSQL server: ADO.NET clustering and job state with the project's own schema.</summary>
public class PostgresClusterTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(10);

    [PostgresFact]
    public Task Two_silos_on_PostgreSQL_restore_with_the_local_batch_bytes_and_the_job_survives_a_restart_of_its_silo() =>
        RestoreAcrossALostJobSilo(kill: false);

    [PostgresFact]
    public Task The_job_survives_its_silo_being_killed_outright() => RestoreAcrossALostJobSilo(kill: true);

    private async Task RestoreAcrossALostJobSilo(bool kill)
    {
        string connectionString = PostgresFactAttribute.ConnectionString!;
        await PostgresSchema.InstallAsync(connectionString);
        await PostgresSchema.InstallAsync(connectionString); // idempotent: a second silo start installs again
        // A cluster id of its own: rows left by earlier runs in the same database do not matter.
        string clusterId = "test-" + Guid.NewGuid().ToString("N")[..12];
        var lease = TimeSpan.FromSeconds(5);
        var silos = new List<IHost>();
        IHost? clientHost = null;
        try
        {
            silos.Add(await PostgresSilo.StartSiloAsync(connectionString, clusterId, fixture, worker: true, lease));
            silos.Add(await PostgresSilo.StartSiloAsync(connectionString, clusterId, fixture, worker: true, lease));
            // The client finds the gateways through the membership table (GatewaysQueryKey).
            clientHost = await PostgresSilo.StartClientAsync(connectionString, clusterId);
            var grains = clientHost.Services.GetRequiredService<IClusterClient>();
            var client = new RestoreClusterClient(grains);
            string output = Directory.CreateDirectory(Path.Combine(fixture.Root, "pg-out-" + Guid.NewGuid().ToString("N"))).FullName;
            string jobId = await client.SubmitAsync(RestoreJobSpec.FromFolders(fixture.Inputs, output, ClusterFixture.Settings));

            var before = await Poll(client, jobId, s => s.Done >= 1);
            // Stop (or kill) the silo that holds the job grain and start another: the job's state must come back from
            // PostgreSQL, not from memory.
            var jobSilo = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<IRestoreJobGrain>(jobId));
            int index = silos.FindIndex(s => s.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.Equals(jobSilo));
            Assert.True(index >= 0, $"the job grain is on {jobSilo}, not on a silo of this test");
            var lost = silos[index];
            silos.RemoveAt(index);
            await (kill ? PostgresSilo.KillAsync(lost) : PostgresSilo.StopAsync(lost));
            silos.Add(await PostgresSilo.StartSiloAsync(connectionString, clusterId, fixture, worker: true, lease));

            var status = await Poll(client, jobId, s => s.Finished);
            Assert.Equal((4, 4, 0), (status.Total, status.Done, status.Failed));
            Assert.Empty(status.Failures);
            foreach (var (uri, hash) in before.Outputs)
            {
                Assert.Equal(hash, status.Outputs[uri]); // what was done before the restart is still recorded
            }
            Assert.Equal(fixture.Reference, Hashes(output));
            Assert.Empty(Directory.GetFiles(output, "*.tmp"));

            // The providers really used PostgreSQL: the job's state row (the only job of this cluster id; a GUID-like job id
            // is stored as a GUID key) and the three silos' membership rows are there.
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            Assert.Equal(1L, await Scalar(connection, "SELECT count(*) FROM latentindigo_grain_state WHERE service_id = @id AND grain_type = 'job' AND payload IS NOT NULL", clusterId));
            Assert.Equal(3L, await Scalar(connection, "SELECT count(*) FROM latentindigo_membership WHERE deployment_id = @id", clusterId));
        }
        finally
        {
            if (clientHost is not null)
            {
                await PostgresSilo.StopAsync(clientHost);
            }
            foreach (var silo in silos)
            {
                await PostgresSilo.StopAsync(silo);
            }
        }
    }

    // Retries through the restart: a call may fail while its gateway or the job grain's silo is going away.
    private static async Task<ClusterJobStatus> Poll(RestoreClusterClient client, string jobId, Func<ClusterJobStatus, bool> until)
    {
        using var timeout = new CancellationTokenSource(JobTimeout);
        while (true)
        {
            try
            {
                var status = await client.GetStatusAsync(jobId);
                if (until(status))
                {
                    return status;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !timeout.IsCancellationRequested)
            {
            }
            await Task.Delay(200, timeout.Token);
        }
    }

    private static async Task<long> Scalar(NpgsqlConnection connection, string sql, string id)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static Dictionary<string, string> Hashes(string folder) => Directory.GetFiles(folder, "*.png")
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))).ToLowerInvariant());
}
