namespace LatentIndigo.Orleans;

/// <summary>Cluster-wide settings of the job grains.</summary>
public sealed class LatentIndigoClusterOptions
{
    /// <summary>The grain storage provider's name for job state (register it with the silo: ADO.NET, Azure, memory for tests).</summary>
    public const string StorageName = "latentindigo";

    /// <summary>
    /// How long a worker's lease on an image lasts without renewal. Workers renew every <see cref="RenewInterval"/>, so
    /// only a dead or hung worker lets it run out; its image is then handed out again. Default 60 s.
    /// </summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a worker renews its lease (and learns of a cancellation). Default 2 s.</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often an idle worker asks for work. Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
