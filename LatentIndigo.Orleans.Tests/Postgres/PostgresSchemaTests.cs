using Xunit;

namespace LatentIndigo.Orleans.Tests.Postgres;

/// <summary>Bad connection strings and unreachable servers are reported clearly (no server needed).</summary>
public class PostgresSchemaTests
{
    [Fact]
    public void A_malformed_connection_string_is_refused_naming_the_expected_form()
    {
        var ex = Assert.Throws<ArgumentException>(() => PostgresSchema.Parse("Hots=db;Prot=5432"));
        Assert.Contains("Not a PostgreSQL connection string", ex.Message);
        Assert.Contains("Host=", ex.Message);
    }

    [Fact]
    public void A_connection_string_without_a_host_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => PostgresSchema.Parse("Database=x;Username=y"));
        Assert.Contains("names no Host", ex.Message);
    }

    [Fact]
    public async Task An_unreachable_server_is_named_without_its_password()
    {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        var ex = await Assert.ThrowsAsync<PostgresUnavailableException>(() =>
            PostgresSchema.InstallAsync("Host=127.0.0.1;Port=1;Username=orleans;Password=secret-word;Database=latentindigo;Timeout=5"));
        Assert.Contains("PostgreSQL at 127.0.0.1:1, database 'latentindigo', user 'orleans'", ex.Message);
        Assert.DoesNotContain("secret-word", ex.Message);
    }

    [Fact]
    public void The_schema_defines_every_query_the_providers_read()
    {
        string[] keys =
        [
            "GatewaysQueryKey", "MembershipReadRowKey", "MembershipReadAllKey", "InsertMembershipVersionKey", "UpdateIAmAlivetimeKey",
            "InsertMembershipKey", "UpdateMembershipKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
            "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey",
        ];
        foreach (var key in keys)
        {
            Assert.Contains($"('{key}',", PostgresSchema.Script);
        }
    }
}
