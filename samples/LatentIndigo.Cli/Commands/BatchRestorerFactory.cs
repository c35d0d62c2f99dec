using LatentIndigo.Batch;
using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// The restorer of <c>batch</c>: one pipeline on one model set serving <c>--concurrency</c> restores at once (each
/// restore gets its own buffers and INN copies inside the pipeline).
/// </summary>
internal static class BatchRestorerFactory
{
    public static PipelinePool Create(int concurrency, string innName, string? modelFolder, string? latentInnPath, bool untrainedLatentInn,
        DiffusionModelOptions modelOptions, InnEngine innEngine) =>
        new([PipelineFactory.Create(innName, modelFolder, latentInnPath, untrainedLatentInn, modelOptions, innEngine, concurrency)]);
}
