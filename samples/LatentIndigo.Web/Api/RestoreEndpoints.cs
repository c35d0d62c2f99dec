using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Web.Hosting;
using LatentIndigo.Web.Jobs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Api;

/// <summary>
/// The restore API: <c>POST /api/restore</c> (multipart) → 202 <c>{"id"}</c>; <c>GET /api/jobs/{id}</c> (state and
/// figures); <c>GET /api/jobs/{id}/events</c> (Server-Sent Events); <c>GET /api/jobs/{id}/result</c> (PNG);
/// <c>DELETE /api/jobs/{id}</c> (cancel, or forget a finished job).
/// </summary>
internal static class RestoreEndpoints
{
    // Room for the settings fields and multipart headers on top of the image itself.
    private const long FormOverheadBytes = 64 * 1024;

    public static void MapRestoreApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("restore");
        api.MapPost("/restore", RestoreAsync)
            .Accepts<RestoreForm>("multipart/form-data")
            .WithSummary("Queues a restore of the uploaded image")
            .WithDescription("Multipart form: the image in 'image', settings as fields with the CLI's names. Limits are checked from the image header before anything is decoded.")
            .Produces<JobCreated>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/jobs/{id}", Status).WithSummary("The job's state, queue position and figures");
        api.MapGet("/jobs/{id}/events", Events)
            .WithSummary("The job's progress as Server-Sent Events")
            .WithDescription("Events: queued {queuePosition, running}; progress {stage, step, totalSteps, tile, totalTiles, elapsedSeconds}; then done (the figures), failed {message} or cancelled {message}. When the last listener disconnects from an unfinished job, it is cancelled after a grace period.");
        api.MapGet("/jobs/{id}/result", Result)
            .WithSummary("The restored image (PNG)")
            .Produces(StatusCodes.Status200OK, contentType: "image/png");
        api.MapDelete("/jobs/{id}", Delete).WithSummary("Cancels a queued or running job, or forgets a finished one and its result");
    }

    private static async Task<IResult> RestoreAsync(HttpContext context, PipelineHost host, RestoreQueue queue, JobStore store,
        EstimatorCatalog estimators, IOptions<DemoSettings> options, TimeProvider time)
    {
        var settings = options.Value;
        var request = context.Request;
        if (!request.HasFormContentType || request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) != true)
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Send multipart/form-data",
                "Send the image as multipart/form-data in the field 'image', with the settings as further fields.");
        }
        // Size first, from the request line alone: nothing of an oversized upload is read.
        long limit = settings.MaxUploadBytes;
        if (request.ContentLength is long declared && declared > limit + FormOverheadBytes)
        {
            return TooLarge(new ImageFileTooLargeException("the upload", declared, limit).Message);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit + FormOverheadBytes;
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions
            {
                MultipartBodyLengthLimit = limit + FormOverheadBytes,
                ValueLengthLimit = 4096,
                ValueCountLimit = 32,
                MemoryBufferThreshold = 1024 * 1024,
            }, context.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            bool tooLarge = ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } || ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase);
            return tooLarge
                ? TooLarge(new ImageFileTooLargeException("the upload", request.ContentLength ?? limit + 1, limit).Message)
                : Problem(StatusCodes.Status400BadRequest, "Malformed form", $"The multipart form could not be read: {ex.Message}");
        }

        var fields = form.Select(f => KeyValuePair.Create(f.Key, f.Value.ToString()))
            .Concat(form.Files.Where(f => f.Name != RestoreRequestParser.ImageField).Select(f => KeyValuePair.Create(f.Name, "")));
        var (restoreOptions, problems) = RestoreRequestParser.Parse(fields, host, estimators, settings);
        var files = form.Files.GetFiles(RestoreRequestParser.ImageField);
        if (files.Count != 1)
        {
            problems[RestoreRequestParser.ImageField] = [files.Count == 0
                ? "No image: send the image file in the multipart field 'image'."
                : "Send one image per request in the field 'image'; use several requests to compare."];
        }
        if (problems.Count > 0 || restoreOptions is null)
        {
            return TypedResults.ValidationProblem(problems, detail: string.Join(" ", problems.Values.SelectMany(v => v)), title: "Invalid settings");
        }
        var file = files[0];
        string source = SourceName(file.FileName);
        if (file.Length > limit)
        {
            return TooLarge(new ImageFileTooLargeException(source, file.Length, limit).Message);
        }
        byte[] bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, context.RequestAborted);
        }

        // The library's limits, from the header alone: bytes, format, input pixels, output pixels.
        int width, height;
        try
        {
            (width, height) = RestorationPipeline.CheckInput(bytes, restoreOptions, queue.LoadOptions, source);
        }
        catch (Exception ex) when (ex is ImageFileTooLargeException or ImageTooLargeException or InvalidRestoreInputException)
        {
            return TooLarge(ex.Message);
        }
        catch (UnsupportedImageFormatException ex)
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported image format", ex.Message);
        }
        catch (ImageLoadException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [RestoreRequestParser.ImageField] = [ex.Message] }, detail: ex.Message, title: "Not a usable image");
        }
        long needed = restoreOptions.EstimatePeakMemoryBytes(width, height);
        long allowed = settings.MaxRestoreMemoryMiB * 1024 * 1024;
        if (needed > allowed)
        {
            return TooLarge($"Restoring '{source}' ({width}×{height}, ×{restoreOptions.ScaleFactor}, {GuidanceStrategyNames.Name(restoreOptions.Strategy)}) would need about " +
                $"{needed / (1024.0 * 1024 * 1024):F1} GiB of memory (RestoreOptions.EstimatePeakMemoryBytes), over this server's limit of {allowed / (1024.0 * 1024 * 1024):F1} GiB per restore. " +
                "Use a smaller image or scale factor, or the inn-only strategy.");
        }

        var job = new RestoreJob(NewId(), bytes, width, height, source, restoreOptions, time.GetUtcNow(), Activity.Current?.Context ?? default);
        if (!store.TryAdd(job))
        {
            return Busy($"The server holds {settings.MaxJobs} unfinished jobs; try again when some have finished.");
        }
        if (!queue.TryEnqueue(job))
        {
            store.Remove(job);
            return Busy($"{settings.MaxQueuedJobs} restores are already waiting; try again in a minute.");
        }
        return TypedResults.Accepted($"/api/jobs/{job.Id}", new JobCreated(job.Id, job.Current.Data is QueuedData q ? q.QueuePosition : 0));
    }

    private static Results<Ok<JobStatus>, ProblemHttpResult> Status(string id, JobStore store) =>
        store.Find(id) is { } job ? TypedResults.Ok(JobStatus.Of(job)) : NotFound(id);

    private static IResult Events(string id, JobStore store, RestoreQueue queue, IOptions<DemoSettings> options, TimeProvider time, HttpContext context)
    {
        if (store.Find(id) is not { } job)
        {
            return NotFound(id);
        }
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.ServerSentEvents(Stream(job, queue, TimeSpan.FromSeconds(options.Value.DisconnectGraceSeconds), time, context.RequestAborted));
    }

    private static async IAsyncEnumerable<SseItem<object>> Stream(RestoreJob job, RestoreQueue queue, TimeSpan grace, TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = job.Subscribe(out var unsubscribe);
        try
        {
            await foreach (var e in reader.ReadAllAsync(cancellationToken))
            {
                yield return new SseItem<object>(e.Data, e.Kind);
            }
        }
        finally
        {
            unsubscribe();
            if (!job.IsFinished && job.SubscriberCount == 0)
            {
                _ = CancelIfAbandonedAsync(job, queue, grace, time);
            }
        }
    }

    // A browser's EventSource reconnects by itself after a network blip: only a job nobody listens to for the whole
    // grace period is cancelled, so a closed tab frees its restore slot.
    private static async Task CancelIfAbandonedAsync(RestoreJob job, RestoreQueue queue, TimeSpan grace, TimeProvider time)
    {
        await Task.Delay(grace, time);
        if (!job.IsFinished && job.SubscriberCount == 0)
        {
            queue.Cancel(job, "The client disconnected (nobody is listening to this job's events any more), so the restore was cancelled.");
        }
    }

    private static IResult Result(string id, JobStore store)
    {
        if (store.Find(id) is not { } job)
        {
            return NotFound(id);
        }
        if (job is { State: JobState.Done, Result: { } png })
        {
            return TypedResults.File(png, "image/png");
        }
        return Problem(StatusCodes.Status409Conflict, "No result", job.State switch
        {
            JobState.Queued or JobState.Running => $"Job {id} is {job.State.ToString().ToLowerInvariant()}; its events say when it is done.",
            JobState.Done => $"Job {id}'s result was dropped to keep the server's memory bounded; restore again.",
            _ => $"Job {id} {job.State.ToString().ToLowerInvariant()}: {job.Message}",
        });
    }

    private static IResult Delete(string id, JobStore store, RestoreQueue queue)
    {
        if (store.Find(id) is not { } job)
        {
            return NotFound(id);
        }
        if (job.IsFinished)
        {
            store.Remove(job);
            return TypedResults.NoContent();
        }
        queue.Cancel(job, "Cancelled by the client.");
        return TypedResults.Accepted($"/api/jobs/{id}");
    }

    private static ProblemHttpResult NotFound(string id) => TypedResults.Problem(
        $"No job '{Shorten(id)}': it never existed, or it finished more than the result lifetime ago, or it was deleted.", statusCode: 404, title: "No such job");

    private static ProblemHttpResult TooLarge(string detail) => Problem(StatusCodes.Status413PayloadTooLarge, "Over a limit", detail);

    private static IResult Busy(string detail)
    {
        return new BusyResult(Problem(StatusCodes.Status503ServiceUnavailable, "Busy", detail));
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    /// <summary>The upload's file name for messages only: its last segment, plain characters, at most 80 of them.</summary>
    internal static string SourceName(string? fileName)
    {
        string name = Path.GetFileName((fileName ?? "").Replace('\\', '/'));
        name = new string(name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ' ').Take(80).ToArray()).Trim();
        return name.Length == 0 ? "upload" : name;
    }

    /// <summary>503 with Retry-After.</summary>
    private sealed class BusyResult(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = "30";
            return inner.ExecuteAsync(httpContext);
        }
    }
}

/// <summary>The multipart form of <c>POST /api/restore</c> (for the OpenAPI description; the endpoint reads the form itself).</summary>
/// <param name="Image">The image (PNG, JPEG, WebP or BMP).</param>
/// <param name="Strategy">pixel, latent, none or inn-only (default: pixel with a model, inn-only without).</param>
/// <param name="Degradation">The known degradation as a spec (e.g. bicubic:x4), or unknown (default).</param>
/// <param name="Scale">1, 2, 4 or 8 (default 4).</param>
/// <param name="Steps">Sampling steps of the full schedule (default 50).</param>
/// <param name="Seed">Random seed (default 12345).</param>
/// <param name="Strength">Noise level of the start, (0, 1] (default 0.57).</param>
/// <param name="Sampler">ddim, ddpm or euler-a (default ddim).</param>
/// <param name="Estimator">The initial estimator (GET /api/health lists them; default bicubic).</param>
public sealed record RestoreForm(IFormFile Image, string? Strategy, string? Degradation, int? Scale, int? Steps, long? Seed, double? Strength, string? Sampler, string? Estimator);

/// <summary>The answer of <c>POST /api/restore</c>.</summary>
/// <param name="Id">The job's id.</param>
/// <param name="QueuePosition">1 = next to start; 0 = started at once.</param>
public sealed record JobCreated(string Id, int QueuePosition);

/// <summary>The answer of <c>GET /api/jobs/{id}</c>.</summary>
public sealed record JobStatus(string Id, string State, string Event, object Data, string? Message, RestoreSummary? Summary)
{
    /// <summary>The status of a job.</summary>
    public static JobStatus Of(RestoreJob job)
    {
        var current = job.Current;
        return new(job.Id, job.State.ToString().ToLowerInvariant(), current.Kind, current.Data, job.Message, job.Summary);
    }
}
