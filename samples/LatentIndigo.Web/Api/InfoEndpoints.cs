using LatentIndigo.Evaluation;
using LatentIndigo.Pipeline;
using LatentIndigo.Web.Files;
using LatentIndigo.Web.Hosting;
using LatentIndigo.Web.Jobs;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Api;

/// <summary><c>GET /api/health</c>, the bundled samples and the read-only Evaluation view.</summary>
internal static class InfoEndpoints
{
    public static void MapInfoApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("info");
        api.MapGet("/health", Health).WithSummary("What this server runs (mode, strategies, estimators), its limits and its queue");
        api.MapGet("/samples", (SampleCatalog samples) => TypedResults.Ok(samples.All)).WithSummary("The bundled sample images");
        api.MapGet("/samples/{name}", (string name, SampleCatalog samples) => samples.PathOf(name) is { } path
                ? Results.File(path, ContentType(path))
                : TypedResults.Problem($"No bundled sample is called '{(name.Length > 60 ? name[..60] : name)}'; GET /api/samples lists them.", statusCode: 404))
            .WithSummary("A bundled sample image");
        api.MapGet("/eval", Evaluation).WithSummary("The configured eval folder's results (table, means, images)").WithTags("evaluation");
        api.MapGet("/eval/images/{index:int}", (int index, EvaluationFolder eval) => eval.ImagePath(index) is { } path
                ? Results.File(path, "image/png")
                : TypedResults.Problem($"No evaluation image {index}; GET /api/eval lists them.", statusCode: 404))
            .WithSummary("An image of the eval folder, by its index in GET /api/eval").WithTags("evaluation");
    }

    private static HealthReport Health(PipelineHost host, RestoreQueue queue, JobStore store, EstimatorCatalog estimators, EvaluationFolder eval, IOptions<DemoSettings> options)
    {
        var s = options.Value;
        string notice = host.Mode switch
        {
            DemoMode.InnOnly => "No Stable Diffusion export is loaded: restoration is INN-only (no generative prior). Start the demo with --model <export folder, diffusers folder or .safetensors/.ckpt checkpoint> for diffusion restoration, or --stand-in for a plumbing demo.",
            DemoMode.StandIn => "STAND-IN MODELS: the diffusion models are generated stand-ins with random weights. The whole pipeline runs, but the output is not a real restoration.",
            _ => "",
        };
        return new HealthReport("ok", LibraryInfo.Version, host.Mode switch { DemoMode.InnOnly => "inn-only", DemoMode.StandIn => "stand-in", _ => "model" }, notice, host.ModelDescription,
            [.. host.Strategies.Select(GuidanceStrategyNames.Name)], GuidanceStrategyNames.Name(host.DefaultStrategy), estimators.Names,
            new QueueReport(host.Pipeline.MaxConcurrentRestores, queue.Running, queue.Waiting, s.MaxQueuedJobs, store.Count),
            new LimitsReport(s.MaxUploadBytes, (long)(s.MaxInputMegapixels * 1_000_000), (long)(s.MaxOutputMegapixels * 1_000_000), s.MaxRestoreMemoryMiB, s.MaxSteps, [1, 2, 4, 8], s.ResultLifetimeSeconds),
            eval.IsConfigured);
    }

    private static IResult Evaluation(EvaluationFolder eval)
    {
        if (!eval.IsConfigured)
        {
            return TypedResults.Problem("No evaluation folder is open: start the demo with --eval <folder>, a folder written by latent-indigo eval --out <folder>.", statusCode: 404, title: "No evaluation");
        }
        try
        {
            return TypedResults.Ok(eval.Read());
        }
        catch (EvaluationInputException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: 409, title: "Unreadable evaluation");
        }
    }

    private static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".webp" => "image/webp",
        _ => "image/jpeg",
    };
}

/// <summary>The answer of <c>GET /api/health</c>.</summary>
/// <param name="Status">ok.</param>
/// <param name="Version">The library's version.</param>
/// <param name="Mode">inn-only, stand-in or model.</param>
/// <param name="Notice">What the page must tell the user about the mode (empty for a real model).</param>
/// <param name="Model">What <c>--model</c> loaded (kind, name, precision, prediction, provider); null without one.</param>
/// <param name="Strategies">Strategies this server can run.</param>
/// <param name="DefaultStrategy">The strategy of a request that names none.</param>
/// <param name="Estimators">Initial estimators a request may name.</param>
/// <param name="Queue">Running and waiting restores.</param>
/// <param name="Limits">What an upload may be.</param>
/// <param name="Evaluation">True when an eval folder is open.</param>
public sealed record HealthReport(string Status, string Version, string Mode, string Notice, string? Model, IReadOnlyList<string> Strategies, string DefaultStrategy,
    IReadOnlyList<string> Estimators, QueueReport Queue, LimitsReport Limits, bool Evaluation);

/// <summary>The queue in <see cref="HealthReport"/>.</summary>
public sealed record QueueReport(int MaxConcurrentRestores, int Running, int Waiting, int MaxWaiting, int JobsKept);

/// <summary>The limits in <see cref="HealthReport"/>.</summary>
public sealed record LimitsReport(long MaxUploadBytes, long MaxInputPixels, long MaxOutputPixels, long MaxRestoreMemoryMiB, int MaxSteps, IReadOnlyList<int> Scales, double ResultLifetimeSeconds);
