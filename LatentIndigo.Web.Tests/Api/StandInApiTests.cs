using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LatentIndigo.Degradations;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Web.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LatentIndigo.Web.Tests.Api;

/// <summary>The API over the stand-in models (the whole diffusion pipeline runs, with random weights).</summary>
[Collection(StandInApp.Name)]
public sealed class StandInApiTests(DemoFactory factory)
{
    private readonly DemoClient client = factory.Client();

    // A short run: latent guidance (cheap on the stand-ins), known degradation (no blind refinement), 8 steps.
    private static readonly Dictionary<string, string> Quick = new()
    {
        ["strategy"] = "latent", ["degradation"] = "bicubic:x4", ["scale"] = "4", ["steps"] = "8", ["seed"] = "7",
    };

    // A run long enough to cancel: 200 steps from pure noise (strength 1), each a few hundred milliseconds.
    private static readonly Dictionary<string, string> Long = new()
    {
        ["strategy"] = "latent", ["degradation"] = "bicubic:x4", ["steps"] = "200", ["strength"] = "1",
    };

    [Fact]
    public async Task Health_says_stand_in_and_lists_every_strategy_and_the_limits()
    {
        var health = JsonDocument.Parse(await client.Http.GetStringAsync("/api/health")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("stand-in", health.GetProperty("mode").GetString());
        Assert.Contains("random weights", health.GetProperty("notice").GetString());
        Assert.Equal(["pixel", "latent", "none", "inn-only"], health.GetProperty("strategies").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("pixel", health.GetProperty("defaultStrategy").GetString());
        Assert.Equal(["bicubic"], health.GetProperty("estimators").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(DemoFactory.MaxUploadBytes, health.GetProperty("limits").GetProperty("maxUploadBytes").GetInt64());
        Assert.Equal(200_000, health.GetProperty("limits").GetProperty("maxOutputPixels").GetInt64());
        Assert.Equal(1, health.GetProperty("queue").GetProperty("maxConcurrentRestores").GetInt32());
    }

    [Fact]
    public async Task OpenApi_document_describes_every_endpoint()
    {
        var doc = JsonDocument.Parse(await client.Http.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = doc.GetProperty("paths");
        Assert.True(paths.GetProperty("/api/restore").TryGetProperty("post", out var post));
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.True(post.GetProperty("responses").TryGetProperty("202", out _));
        Assert.True(post.GetProperty("responses").TryGetProperty("413", out _));
        Assert.True(paths.GetProperty("/api/jobs/{id}/events").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/jobs/{id}/result").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/jobs/{id}").TryGetProperty("delete", out _));
        Assert.True(paths.GetProperty("/api/health").TryGetProperty("get", out _));
    }

    [Fact]
    public async Task Restore_streams_progress_then_done_and_the_result_is_the_input_times_the_scale()
    {
        string id = await client.StartAsync(TestImages.Chelsea, Quick);
        var events = await client.RunToEndAsync(id);

        Assert.Equal("done", events[^1].Kind);
        Assert.All(events[..^1], e => Assert.Contains(e.Kind, new[] { "queued", "progress" }));
        var sampling = events.Where(e => e.Kind == "progress" && e.Data.GetProperty("stage").GetString() == "Sampling").Select(e => e.Data).ToList();
        Assert.NotEmpty(sampling);
        var done = events[^1].Data;
        int stepsRun = done.GetProperty("stepsRun").GetInt32();
        // 8 steps at strength 0.57 start at step 4 of 8: 4 or 5 run (the library rounds the start); every event says so.
        Assert.InRange(stepsRun, 4, 5);
        Assert.All(sampling, s => Assert.Equal(stepsRun, s.GetProperty("totalSteps").GetInt32()));
        var steps = sampling.Select(s => s.GetProperty("step").GetInt32()).ToList();
        Assert.Equal(steps.Order(), steps);
        Assert.InRange(steps[^1], 1, stepsRun);
        Assert.Equal(TestImages.ChelseaWidth * 4, done.GetProperty("width").GetInt32());
        Assert.Equal("latent", done.GetProperty("strategy").GetString());
        Assert.True(done.GetProperty("standInModels").GetBoolean());
        Assert.True(done.GetProperty("seconds").TryGetProperty("Sampling", out _));

        using var result = await client.Http.GetAsync($"/api/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal("image/png", result.Content.Headers.ContentType?.MediaType);
        Assert.Equal((TestImages.ChelseaWidth * 4, TestImages.ChelseaHeight * 4), TestImages.PngSize(await result.Content.ReadAsByteArrayAsync()));
        Assert.Equal("done", (await client.StatusAsync(id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task The_result_is_what_the_library_gives_for_the_same_settings()
    {
        string id = await client.StartAsync(TestImages.Chelsea, Quick);
        Assert.Equal("done", (await client.RunToEndAsync(id))[^1].Kind);
        var served = await client.Http.GetByteArrayAsync($"/api/jobs/{id}/result");

        // The same pipeline called directly with the options the form asked for, the library's defaults otherwise
        // (the pipeline gives identical images for the same input and options).
        var pipeline = factory.Services.GetRequiredService<PipelineHost>().Pipeline;
        using var input = ImageIO.Load(TestImages.ChelseaPath);
        using var direct = pipeline.Restore(input, RestoreOptions.Default with
        {
            Strategy = GuidanceStrategy.LatentInn,
            KnownDegradation = DegradationSpec.Parse("bicubic:x4"),
            ScaleFactor = 4,
            Steps = 8,
            Seed = 7,
        });
        using var expected = ImageIO.Decode(ImageIO.Encode(direct.Image, ImageFileFormat.Png));
        using var actual = ImageIO.Decode(served);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), "the served PNG differs from the library's restore of the same input and options");

        // And another seed gives another image: the seed field reached the pipeline.
        using var otherSeed = pipeline.Restore(input, RestoreOptions.Default with
        {
            Strategy = GuidanceStrategy.LatentInn, KnownDegradation = DegradationSpec.Parse("bicubic:x4"), Steps = 8, Seed = 8,
        });
        using var other = ImageIO.Decode(ImageIO.Encode(otherSeed.Image, ImageFileFormat.Png));
        Assert.False(other.eq(actual).all().item<bool>(), "seeds 7 and 8 gave the same image: the comparison above proves nothing");
    }

    [Fact]
    public async Task Delete_cancels_a_running_job_at_its_next_step()
    {
        string id = await client.StartAsync(TestImages.Chelsea, Long);
        var events = new List<(string Kind, JsonElement Data)>();
        bool deleted = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await foreach (var e in client.EventsAsync(id, timeout.Token))
        {
            events.Add(e);
            if (!deleted && e.Kind == "progress" && e.Data.GetProperty("stage").GetString() == "Sampling")
            {
                deleted = true;
                using var delete = await client.Http.DeleteAsync($"/api/jobs/{id}");
                Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
            }
        }
        Assert.Equal("cancelled", events[^1].Kind);
        Assert.Equal("Cancelled by the client.", events[^1].Data.GetProperty("message").GetString());
        int lastStep = events.Where(e => e.Kind == "progress" && e.Data.GetProperty("stage").GetString() == "Sampling").Max(e => e.Data.GetProperty("step").GetInt32());
        Assert.True(lastStep < 200, $"the job ran all its steps ({lastStep}) instead of stopping");

        using var result = await client.Http.GetAsync($"/api/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.Conflict, result.StatusCode);
        Assert.Contains("cancelled", (await DemoClient.ProblemAsync(result)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_client_that_disconnects_from_the_events_cancels_its_job()
    {
        string id = await client.StartAsync(TestImages.Chelsea, Long);
        await foreach (var e in client.EventsAsync(id))
        {
            break; // one event, then the connection closes
        }
        var deadline = Stopwatch.StartNew();
        JsonElement status;
        do
        {
            await Task.Delay(200);
            status = await client.StatusAsync(id);
        }
        while (status.GetProperty("state").GetString() != "cancelled" && deadline.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Equal("cancelled", status.GetProperty("state").GetString());
        Assert.Contains("client disconnected", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Waiting_jobs_hear_their_position_and_a_full_line_is_refused_with_503()
    {
        string running = await client.StartAsync(TestImages.Chelsea, Long);
        try
        {
            using var second = await client.PostAsync(TestImages.Chelsea, Quick);
            using var third = await client.PostAsync(TestImages.Chelsea, Quick);
            var secondBody = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement;
            var thirdBody = JsonDocument.Parse(await third.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(1, secondBody.GetProperty("queuePosition").GetInt32());
            Assert.Equal(2, thirdBody.GetProperty("queuePosition").GetInt32());

            // MaxQueuedJobs is 2: a fourth is refused, saying so.
            using var fourth = await client.PostAsync(TestImages.Chelsea, Quick);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, fourth.StatusCode);
            Assert.NotNull(fourth.Headers.RetryAfter);
            Assert.Contains("already waiting", (await DemoClient.ProblemAsync(fourth)).GetProperty("detail").GetString());

            // The second leaves the line: the third moves up to position 1, and hears it.
            string thirdId = thirdBody.GetProperty("id").GetString()!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var positions = new List<int>();
            await foreach (var e in client.EventsAsync(thirdId, timeout.Token))
            {
                Assert.Equal("queued", e.Kind);
                positions.Add(e.Data.GetProperty("queuePosition").GetInt32());
                if (positions.Count == 1)
                {
                    (await client.Http.DeleteAsync($"/api/jobs/{secondBody.GetProperty("id").GetString()}")).Dispose();
                }
                else
                {
                    break;
                }
            }
            Assert.Equal([2, 1], positions);
            (await client.Http.DeleteAsync($"/api/jobs/{thirdId}")).Dispose();
        }
        finally
        {
            (await client.Http.DeleteAsync($"/api/jobs/{running}")).Dispose();
        }
        // The line is empty again once the running job has stopped.
        var deadline = Stopwatch.StartNew();
        while ((await client.StatusAsync(running)).GetProperty("state").GetString() != "cancelled" && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task The_pipeline_stages_are_traced_under_the_job_in_the_request_trace()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is RestorationPipeline.ActivitySourceName or WebTelemetry.ActivitySourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (stopped)
                {
                    stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var traceId = ActivityTraceId.CreateRandom();
        string id = await client.StartAsync(TestImages.Chelsea, Quick, traceParent: $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal("done", (await client.RunToEndAsync(id))[^1].Kind);

        // The job's activity stops just after its "done" event went out: wait for it.
        List<Activity> inTrace = [];
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(50))
        {
            lock (stopped)
            {
                inTrace = stopped.Where(a => a.TraceId == traceId).ToList();
            }
            if (inTrace.Any(a => a.Source.Name == WebTelemetry.ActivitySourceName))
            {
                break;
            }
        }
        var job = Assert.Single(inTrace, a => a.Source.Name == WebTelemetry.ActivitySourceName);
        Assert.Equal(id, job.GetTagItem("latentindigo.job.id"));
        var stages = inTrace.Where(a => a.Source.Name == RestorationPipeline.ActivitySourceName).ToList();
        Assert.Contains(stages, s => s.OperationName == "Sampling");
        Assert.All(stages, s => Assert.Equal(job.SpanId, s.ParentSpanId));
    }
}
