using System.Diagnostics;

namespace LatentIndigo.Web.Hosting;

/// <summary>
/// The demo's <see cref="ActivitySource"/>: one <c>RestoreJob</c> activity per job, continuing the trace of the request
/// that created it; the pipeline's stage activities (<see cref="LatentIndigo.Pipeline.RestorationPipeline.ActivitySourceName"/>)
/// are its children. Add both sources to OpenTelemetry's tracer (docs/web.md).
/// </summary>
public static class WebTelemetry
{
    /// <summary>The source's name.</summary>
    public const string ActivitySourceName = "LatentIndigo.Web";

    /// <summary>The source.</summary>
    public static ActivitySource Source { get; } = new(ActivitySourceName);
}
