using LatentIndigo.Pipeline;

namespace LatentIndigo.Orleans;

/// <summary>
/// The model set a worker silo hosts: makes one pipeline per worker slot. (Each slot loads its own copy; since issue 14
/// one pipeline could serve all slots of a silo with <c>maxConcurrentRestores</c>, not done here yet.)
/// </summary>
/// <param name="createPipeline">Loads one pipeline (models and INNs) for one slot.</param>
/// <param name="slots">Worker slots on this silo: one per GPU, or as many as memory allows on a CPU.</param>
public sealed class WorkerModelSet(Func<RestorationPipeline> createPipeline, int slots = 1)
{
    /// <summary>Worker slots on this silo.</summary>
    public int Slots { get; } = slots >= 1 ? slots : throw new ArgumentOutOfRangeException(nameof(slots), slots, "At least one slot.");

    /// <summary>Loads a pipeline for one slot.</summary>
    public RestorationPipeline CreatePipeline() => createPipeline();
}
