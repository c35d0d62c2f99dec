using System.Net;
using System.Text.Json;

namespace LatentIndigo.Web.Tests.Api;

/// <summary>The API without a model (INN-only, as the CLI without --model), and the expiry and budget of results.</summary>
public sealed class InnOnlyApiTests(InnOnlyFactory factory) : IClassFixture<InnOnlyFactory>
{
    private readonly DemoClient client = factory.Client();

    // Unknown degradation: INN-only returns the bicubic estimate, the quickest restore there is.
    private static readonly Dictionary<string, string> Known = new() { ["strategy"] = "inn-only", ["degradation"] = "unknown" };

    [Fact]
    public async Task Health_says_inn_only_and_how_to_get_diffusion()
    {
        var health = JsonDocument.Parse(await client.Http.GetStringAsync("/api/health")).RootElement;
        Assert.Equal("inn-only", health.GetProperty("mode").GetString());
        Assert.Equal(["inn-only"], health.GetProperty("strategies").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("--model", health.GetProperty("notice").GetString());
    }

    [Fact]
    public async Task A_diffusion_strategy_is_a_400_that_says_a_model_is_needed()
    {
        using var response = await client.PostAsync(TestImages.Chelsea, new Dictionary<string, string> { ["strategy"] = "pixel" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("start it with --model <folder>", (await DemoClient.ProblemAsync(response)).GetProperty("errors").GetProperty("strategy")[0].GetString());
    }

    [Fact]
    public async Task A_result_expires_after_its_lifetime()
    {
        string id = await client.StartAsync(TestImages.Chelsea, Known);
        Assert.Equal("done", (await client.RunToEndAsync(id))[^1].Kind);
        using (var fresh = await client.Http.GetAsync($"/api/jobs/{id}/result"))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }
        factory.Clock.Advance(TimeSpan.FromSeconds(59));
        using (var before = await client.Http.GetAsync($"/api/jobs/{id}/result"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        factory.Clock.Advance(TimeSpan.FromSeconds(2)); // 61 s after it finished; the lifetime is 60 s
        using var expired = await client.Http.GetAsync($"/api/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        using var status = await client.Http.GetAsync($"/api/jobs/{id}");
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
    }

    [Fact]
    public async Task Results_over_the_byte_budget_drop_the_oldest_first()
    {
        // The budget (1 byte) holds only the newest result: the first is dropped when the second is stored.
        string first = await client.StartAsync(TestImages.Chelsea, Known);
        Assert.Equal("done", (await client.RunToEndAsync(first))[^1].Kind);
        string second = await client.StartAsync(TestImages.Chelsea, Known);
        Assert.Equal("done", (await client.RunToEndAsync(second))[^1].Kind);

        using var dropped = await client.Http.GetAsync($"/api/jobs/{first}/result");
        Assert.Equal(HttpStatusCode.NotFound, dropped.StatusCode);
        using var kept = await client.Http.GetAsync($"/api/jobs/{second}/result");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }

    [Fact]
    public async Task Delete_forgets_a_finished_job()
    {
        string id = await client.StartAsync(TestImages.Chelsea, Known);
        Assert.Equal("done", (await client.RunToEndAsync(id))[^1].Kind);
        using var delete = await client.Http.DeleteAsync($"/api/jobs/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await client.Http.GetAsync($"/api/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}
