using System.Data;
using Npgsql;
using Xunit;

namespace LatentIndigo.Orleans.Tests.Postgres;

/// <summary>
/// The installed query texts against the providers' contract, including the conflict paths a healthy cluster rarely
/// takes: a stale membership version, a silo inserted twice, a stale grain-state ETag. Parameters are bound as the
/// providers bind them (by name, with the DbType their helper picks for each CLR type).
/// </summary>
public class PostgresQueryContractTests
{
    [PostgresFact]
    public async Task Membership_changes_need_the_current_version_and_bump_it_once()
    {
        await using var db = await OpenAsync();
        string deployment = "contract-" + Guid.NewGuid().ToString("N");
        Assert.True(await db.BoolAsync("InsertMembershipVersionKey", ("DeploymentId", deployment)));
        Assert.False(await db.BoolAsync("InsertMembershipVersionKey", ("DeploymentId", deployment)));
        var empty = await db.RowsAsync("MembershipReadAllKey", ("DeploymentId", deployment));
        Assert.Single(empty);
        Assert.Equal(0, empty[0]["Version"]);
        Assert.Equal(DBNull.Value, empty[0]["StartTime"]);

        Assert.True(await db.BoolAsync("InsertMembershipKey", Silo(deployment, 11111, version: 0)));
        Assert.False(await db.BoolAsync("InsertMembershipKey", Silo(deployment, 11111, version: 1))); // already there
        Assert.False(await db.BoolAsync("InsertMembershipKey", Silo(deployment, 22222, version: 0))); // stale version
        var one = await db.RowsAsync("MembershipReadAllKey", ("DeploymentId", deployment));
        Assert.Equal((1, 1), (one.Count, (int)one[0]["Version"]));
        Assert.Equal(DateTimeKind.Utc, ((DateTime)one[0]["StartTime"]).Kind);

        (string, object?)[] update =
        [
            ("DeploymentId", deployment), ("Address", "127.0.0.1"), ("Port", 11111), ("Generation", 7), ("Status", 3),
            ("SuspectTimes", null), ("IAmAliveTime", DateTime.UtcNow), ("Version", 1),
        ];
        Assert.True(await db.BoolAsync("UpdateMembershipKey", update));
        Assert.False(await db.BoolAsync("UpdateMembershipKey", update)); // version 1 is stale now
        var gateways = await db.RowsAsync("GatewaysQueryKey", ("DeploymentId", deployment), ("Status", 3));
        Assert.Equal(30000, Assert.Single(gateways)["ProxyPort"]);
        var row = await db.RowsAsync("MembershipReadRowKey", ("DeploymentId", deployment), ("Address", "127.0.0.1"), ("Port", 11111), ("Generation", 7));
        Assert.Equal((2, 3), ((int)row[0]["Version"], (int)row[0]["Status"]));

        await db.ExecuteAsync("DeleteMembershipTableEntriesKey", ("DeploymentId", deployment));
        Assert.Empty(await db.RowsAsync("MembershipReadAllKey", ("DeploymentId", deployment)));
    }

    [PostgresFact]
    public async Task Grain_state_writes_and_clears_refuse_a_stale_etag()
    {
        await using var db = await OpenAsync();
        string service = "contract-" + Guid.NewGuid().ToString("N");
        (string, object?)[] Key(int? version, byte[]? payload = null) =>
        [
            ("GrainIdHash", 1), ("GrainIdN0", 0L), ("GrainIdN1", 42L), ("GrainTypeHash", 2), ("GrainTypeString", "job"),
            ("GrainIdExtensionString", null), ("ServiceId", service), ("GrainStateVersion", version), ("PayloadBinary", payload),
        ];
        Assert.Empty(await db.RowsAsync("ReadFromStorageKey", Key(null)));
        Assert.Equal(1, await db.ScalarAsync("WriteToStorageKey", Key(null, [1])));
        Assert.Equal(DBNull.Value, await db.ScalarAsync("WriteToStorageKey", Key(null, [2]))); // a second first write
        Assert.Equal(2, await db.ScalarAsync("WriteToStorageKey", Key(1, [3])));
        Assert.Equal(DBNull.Value, await db.ScalarAsync("WriteToStorageKey", Key(1, [4]))); // stale
        var read = Assert.Single(await db.RowsAsync("ReadFromStorageKey", Key(null)));
        Assert.Equal(new byte[] { 3 }, (byte[])read["PayloadBinary"]);
        Assert.Equal(2, read["Version"]);
        Assert.Equal(DBNull.Value, await db.ScalarAsync("ClearStorageKey", Key(1))); // stale
        Assert.Equal(3, await db.ScalarAsync("ClearStorageKey", Key(2)));
        var cleared = Assert.Single(await db.RowsAsync("ReadFromStorageKey", Key(null)));
        Assert.Equal((DBNull.Value, (object)3), (cleared["PayloadBinary"], cleared["Version"]));
    }

    private static (string, object?)[] Silo(string deployment, int port, int version) =>
    [
        ("DeploymentId", deployment), ("IAmAliveTime", DateTime.UtcNow), ("SiloName", "silo"), ("HostName", "host"),
        ("Address", "127.0.0.1"), ("Port", port), ("Generation", 7), ("StartTime", DateTime.UtcNow), ("Status", 1),
        ("ProxyPort", 30000), ("Version", version),
    ];

    private static async Task<Queries> OpenAsync()
    {
        string connectionString = PostgresFactAttribute.ConnectionString!;
        await PostgresSchema.InstallAsync(connectionString);
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var texts = new Dictionary<string, string>();
        await using (var command = new NpgsqlCommand("SELECT QueryKey, QueryText FROM OrleansQuery", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                texts[reader.GetString(0)] = reader.GetString(1);
            }
        }
        return new Queries(connection, texts);
    }

    private sealed class Queries(NpgsqlConnection connection, Dictionary<string, string> texts) : IAsyncDisposable
    {
        public async Task<bool> BoolAsync(string key, params (string Name, object? Value)[] parameters) =>
            Convert.ToBoolean(await ScalarAsync(key, parameters));

        public async Task<object?> ScalarAsync(string key, params (string Name, object? Value)[] parameters)
        {
            await using var command = Command(key, parameters);
            return await command.ExecuteScalarAsync();
        }

        public async Task ExecuteAsync(string key, params (string Name, object? Value)[] parameters)
        {
            await using var command = Command(key, parameters);
            await command.ExecuteNonQueryAsync();
        }

        public async Task<List<Dictionary<string, object>>> RowsAsync(string key, params (string Name, object? Value)[] parameters)
        {
            await using var command = Command(key, parameters);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<Dictionary<string, object>>();
            while (await reader.ReadAsync())
            {
                rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, reader.GetValue));
            }
            return rows;
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();

        private NpgsqlCommand Command(string key, (string Name, object? Value)[] parameters)
        {
            var command = new NpgsqlCommand(texts[key], connection);
            foreach (var (name, value) in parameters)
            {
                // The DbType Orleans' AddParameter picks from the CLR type (nulls keep the declared type's DbType).
                var type = name switch
                {
                    "GrainIdN0" or "GrainIdN1" => DbType.Int64,
                    "PayloadBinary" => DbType.Binary,
                    "IAmAliveTime" or "StartTime" => DbType.DateTime,
                    "Address" => DbType.String,
                    _ => value is string || name.EndsWith("String", StringComparison.Ordinal) || name is "SuspectTimes" or "ServiceId" or "DeploymentId" or "SiloName" or "HostName"
                        ? DbType.String
                        : DbType.Int32,
                };
                command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
            }
            return command;
        }
    }
}
