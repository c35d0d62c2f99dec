using LatentIndigo.Pipeline;

namespace LatentIndigo.Orleans;

/// <summary>
/// The model set a worker silo hosts: makes one pipeline per worker slot (each slot loads its own copy: a
/// <see cref="Diffusion.StableDiffusionModels"/> runs one call per model at a time, see docs/scale-out.md).
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
