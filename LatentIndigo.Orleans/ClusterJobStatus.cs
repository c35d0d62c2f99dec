namespace LatentIndigo.Orleans;

/// <summary>Where a cluster job stands.</summary>
[GenerateSerializer, Immutable]
public sealed record ClusterJobStatus
{
    /// <summary>Images in the job.</summary>
    [Id(0)] public int Total { get; init; }

    /// <summary>Images whose output is written and recorded.</summary>
    [Id(1)] public int Done { get; init; }

    /// <summary>Images that failed (their messages are in <see cref="Failures"/>).</summary>
    [Id(2)] public int Failed { get; init; }

    /// <summary>Images handed to a worker and not finished.</summary>
    [Id(3)] public int Running { get; init; }

    /// <summary>True once cancelled: no image is handed out any more, running ones are stopped.</summary>
    [Id(4)] public bool Cancelled { get; init; }

    /// <summary>Completions of an image that was done already (a worker finished after its lease had been handed on): the
    /// write is idempotent, so these left no second output; counted to show failover happened.</summary>
    [Id(5)] public int DuplicateCompletions { get; init; }

    /// <summary>Images handed out again because their worker stopped renewing its lease (a silo died or hung).</summary>
    [Id(6)] public int Reassigned { get; init; }

    /// <summary>"input: message" per failed image.</summary>
    [Id(7)] public IReadOnlyList<string> Failures { get; init; } = [];

    /// <summary>SHA-256 of each done output, by output URI.</summary>
    [Id(8)] public IReadOnlyDictionary<string, string> Outputs { get; init; } = new Dictionary<string, string>();

    /// <summary>The workers holding the running images (worker keys start with their silo's address).</summary>
    [Id(9)] public IReadOnlyList<string> RunningOn { get; init; } = [];

    /// <summary>Done images per worker that restored them (worker keys start with their silo's address).</summary>
    [Id(10)] public IReadOnlyDictionary<string, int> DoneBy { get; init; } = new Dictionary<string, int>();

    /// <summary>True when every image is done or failed, or the job was cancelled.</summary>
    public bool Finished => Cancelled || Done + Failed == Total;
}
