using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>The learned estimators a command loaded, by the name it was given; disposes them together.</summary>
internal sealed class EstimatorSet : IDisposable
{
    private readonly Dictionary<string, OnnxUpscaleEstimator> loaded = new(StringComparer.Ordinal);

    public void Add(string name, OnnxUpscaleEstimator estimator) => loaded.Add(name, estimator);

    /// <summary>The estimator loaded for <paramref name="name"/>; null for none or bicubic.</summary>
    public IInitialEstimator? Find(string? name) => name is not null && loaded.TryGetValue(name, out var e) ? e : null;

    public void Dispose()
    {
        foreach (var estimator in loaded.Values)
        {
            estimator.Dispose();
        }
        loaded.Clear();
    }
}
