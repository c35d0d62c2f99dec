using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace LatentIndigo.Web.Tests.Api;

/// <summary>The API as a script uses it: multipart POST, Server-Sent Events, result, DELETE.</summary>
internal sealed class DemoClient(HttpClient http)
{
    public HttpClient Http => http;

    public async Task<HttpResponseMessage> PostAsync(byte[] image, IReadOnlyDictionary<string, string> settings, string fileName = "input.png",
        string? traceParent = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "image", fileName);
        foreach (var (key, value) in settings)
        {
            form.Add(new StringContent(value), key);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/restore") { Content = form };
        if (traceParent is not null)
        {
            request.Headers.Add("traceparent", traceParent);
        }
        return await http.SendAsync(request);
    }

    /// <summary>Posts and returns the job id (asserting 202).</summary>
    public async Task<string> StartAsync(byte[] image, IReadOnlyDictionary<string, string> settings, string? traceParent = null)
    {
        using var response = await PostAsync(image, settings, traceParent: traceParent);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST answered {(int)response.StatusCode}: {body}");
        Assert.Equal($"/api/jobs/{Id(body)}", response.Headers.Location?.OriginalString);
        return Id(body);
    }

    /// <summary>The job's events as they arrive, until the stream ends (after the final event).</summary>
    public async IAsyncEnumerable<(string Kind, JsonElement Data)> EventsAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync($"/api/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            yield return (item.EventType, JsonDocument.Parse(item.Data).RootElement.Clone());
        }
    }

    /// <summary>All events of a job until its final one (at most <paramref name="timeoutSeconds"/>).</summary>
    public async Task<List<(string Kind, JsonElement Data)>> RunToEndAsync(string id, int timeoutSeconds = 120)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        var events = new List<(string, JsonElement)>();
        await foreach (var e in EventsAsync(id, timeout.Token))
        {
            events.Add(e);
        }
        return events;
    }

    public async Task<JsonElement> StatusAsync(string id) => JsonDocument.Parse(await http.GetStringAsync($"/api/jobs/{id}")).RootElement.Clone();

    public static string Id(string json) => JsonDocument.Parse(json).RootElement.GetProperty("id").GetString()!;

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
