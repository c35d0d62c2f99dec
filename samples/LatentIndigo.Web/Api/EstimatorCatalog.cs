using LatentIndigo.Pipeline;

namespace LatentIndigo.Web.Api;

/// <summary>
/// The initial estimators a request may name in its <c>estimator</c> field (<see cref="RestoreOptions.InitialEstimator"/>).
/// Only the library's default, <c>bicubic</c>, today. The hook for more: register an estimator here under the CLI's
/// <c>--estimator</c> name (a learned super-resolution network, say) and the page offers it, since it reads
/// <see cref="Names"/> from <c>GET /api/health</c>.
/// </summary>
public sealed class EstimatorCatalog
{
    /// <summary>The default estimator's name: bicubic upscaling (<see cref="BicubicUpscaleEstimator"/>).</summary>
    public const string Default = "bicubic";

    private readonly Dictionary<string, Func<IInitialEstimator?>> estimators = new(StringComparer.OrdinalIgnoreCase)
    {
        // null: the pipeline's own default (bicubic), exactly as when no estimator is set.
        [Default] = () => null,
    };

    /// <summary>The names a request may use, the default first.</summary>
    public IReadOnlyList<string> Names => [.. estimators.Keys];

    /// <summary>Adds an estimator under a name (call at startup, before requests arrive).</summary>
    public void Add(string name, Func<IInitialEstimator?> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        estimators[name] = create;
    }

    /// <summary>The estimator of a name; false when the name is unknown.</summary>
    public bool TryGet(string name, out IInitialEstimator? estimator)
    {
        estimator = null;
        if (!estimators.TryGetValue(name, out var create))
        {
            return false;
        }
        estimator = create();
        return true;
    }
}
