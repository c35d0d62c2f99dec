using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace LatentIndigo.Orleans;

/// <summary>
/// Clustering and job state on PostgreSQL through Orleans' ADO.NET providers, with <see cref="PostgresSchema"/>'s schema
/// (install it first: <see cref="PostgresSchema.InstallAsync"/>).
/// </summary>
public static class PostgresClusterExtensions
{
    /// <summary>
    /// ADO.NET clustering and the <see cref="LatentIndigoClusterOptions.StorageName"/> grain storage, both on
    /// <paramref name="connectionString"/>. Job state is stored with Orleans' own serializer (the state types are
    /// Orleans-serializable, and it keeps their exact shape).
    /// </summary>
    /// <exception cref="ArgumentException">Not a valid PostgreSQL connection string.</exception>
    public static ISiloBuilder UseLatentIndigoPostgres(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string checkedString = PostgresSchema.Parse(connectionString).ConnectionString;
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = checkedString;
        });
        builder.AddAdoNetGrainStorage(LatentIndigoClusterOptions.StorageName, (OptionsBuilder<AdoNetGrainStorageOptions> options) => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = checkedString;
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        return builder;
    }

    /// <summary>A client that finds the cluster's gateways in the PostgreSQL membership table.</summary>
    /// <exception cref="ArgumentException">Not a valid PostgreSQL connection string.</exception>
    public static IClientBuilder UseLatentIndigoPostgres(this IClientBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string checkedString = PostgresSchema.Parse(connectionString).ConnectionString;
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = checkedString;
        });
        return builder;
    }
}
