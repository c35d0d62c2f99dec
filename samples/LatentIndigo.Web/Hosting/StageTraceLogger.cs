using System.Diagnostics;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Web.Hosting;

/// <summary>
/// Listens to the pipeline's <see cref="RestorationPipeline.ActivitySourceName"/> and the demo's job activities and logs
/// each finished one at Debug level with its trace id: the traces show in the log without an OpenTelemetry exporter
/// (with one, add the two sources to its tracer instead; docs/web.md).
/// </summary>
public sealed class StageTraceLogger : IHostedService, IDisposable
{
    private readonly ActivityListener listener;

    /// <summary>Creates the listener (registered on start).</summary>
    public StageTraceLogger(ILogger<StageTraceLogger> logger)
    {
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is RestorationPipeline.ActivitySourceName or WebTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => logger.LogDebug("{Source} {Activity} {Milliseconds:F1} ms (trace {TraceId}, parent {ParentId})",
                activity.Source.Name, activity.OperationName, activity.Duration.TotalMilliseconds, activity.TraceId, activity.ParentSpanId),
        };
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        ActivitySource.AddActivityListener(listener);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose() => listener.Dispose();
}
