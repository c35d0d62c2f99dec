namespace LatentIndigo.Orleans;

/// <summary>The persisted state of a <see cref="RestoreJobGrain"/>.</summary>
[GenerateSerializer]
public sealed class RestoreJobState
{
    /// <summary>The job, null before it is submitted.</summary>
    [Id(0)] public RestoreJobSpec? Spec { get; set; }

    /// <summary>One entry per image.</summary>
    [Id(1)] public List<ImageEntry> Images { get; set; } = [];

    /// <summary>Cancelled.</summary>
    [Id(2)] public bool Cancelled { get; set; }

    /// <summary>Duplicate completions seen.</summary>
    [Id(3)] public int DuplicateCompletions { get; set; }

    /// <summary>Leases taken over after they expired.</summary>
    [Id(4)] public int Reassigned { get; set; }

    /// <summary>One image's record.</summary>
    [GenerateSerializer]
    public sealed class ImageEntry
    {
        /// <summary>Input URI.</summary>
        [Id(0)] public string Input { get; set; } = "";

        /// <summary>Output URI.</summary>
        [Id(1)] public string Output { get; set; } = "";

        /// <summary>Pending, Running, Done or Failed.</summary>
        [Id(2)] public string State { get; set; } = "Pending";

        /// <summary>The current lease.</summary>
        [Id(3)] public Guid Lease { get; set; }

        /// <summary>When the lease runs out (UTC).</summary>
        [Id(4)] public DateTime LeaseExpiresUtc { get; set; }

        /// <summary>The worker holding it.</summary>
        [Id(5)] public string? Worker { get; set; }

        /// <summary>Output hash once done.</summary>
        [Id(6)] public string? Sha256 { get; set; }

        /// <summary>Hand-outs so far.</summary>
        [Id(7)] public int Attempts { get; set; }

        /// <summary>Failure message.</summary>
        [Id(8)] public string? Error { get; set; }

        /// <summary>Restore seconds.</summary>
        [Id(9)] public double Seconds { get; set; }
    }
}
