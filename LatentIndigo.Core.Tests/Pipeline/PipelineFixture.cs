using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>A stand-in SD export with the bundled bicubic ×4 pixel INN and an untrained latent INN, shared per class.</summary>
public sealed class PipelineFixture : IDisposable
{
    private readonly StandInFolder folder = StandInModelBuilder.CreateTemporary();

    public PipelineFixture()
    {
        var latentInn = new LiftingInn(new LiftingInnOptions { Channels = 4, Offset = 0, Levels = 2 });
        Pipeline = new RestorationPipeline(StableDiffusionModels.Load(folder.Path), TempInn(), latentInn);
    }

    public RestorationPipeline Pipeline { get; }

    internal static LiftingInn TempInn()
    {
        var inn = new LiftingInn(new LiftingInnOptions { Channels = 3, Levels = 2 });
        using (TorchSharp.torch.no_grad())
        {
            foreach (var p in inn.parameters())
            {
                p.mul_(0.1);
            }
        }
        return inn;
    }

    public string ModelFolder => folder.Path;

    public void Dispose()
    {
        Pipeline.Dispose();
        folder.Dispose();
    }
}

/// <summary>An IProgress that runs its callback synchronously on the reporting thread.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
