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
    public async Task The_evaluation_view_reads_the_eval_folder_and_serves_its_listed_images_only()
    {
        var view = JsonDocument.Parse(await client.Http.GetStringAsync("/api/eval")).RootElement;
        Assert.Equal(4, view.GetProperty("rows").GetArrayLength());
        // Means per strategy, by hand from the fixture's rows: inn-only (26 + 31) / 2, bicubic (24 + 28) / 2.
        var means = view.GetProperty("means").EnumerateArray().ToDictionary(m => m.GetProperty("strategy").GetString()!, m => m);
        Assert.Equal(28.5, means["inn-only"].GetProperty("psnrY").GetDouble(), 9);
        Assert.Equal(26.0, means["bicubic"].GetProperty("psnrY").GetDouble(), 9);
        Assert.Equal(0.83, means["inn-only"].GetProperty("ssimY").GetDouble(), 9);
        Assert.Equal(2, means["bicubic"].GetProperty("images").GetInt32());
        var images = view.GetProperty("images").EnumerateArray().Select(i => (Index: i.GetProperty("index").GetInt32(), Kind: i.GetProperty("kind").GetString(), Name: i.GetProperty("name").GetString())).ToList();
        Assert.Equal([(0, "chart", "chart.png"), (1, "grid", "a.png"), (2, "output", "inn-only/a.png")], images);

        var grid = await client.Http.GetByteArrayAsync("/api/eval/images/1");
        Assert.Equal((60, 20), TestImages.PngSize(grid));
        using var beyond = await client.Http.GetAsync("/api/eval/images/3");
        Assert.Equal(HttpStatusCode.NotFound, beyond.StatusCode);
        using var path = await client.Http.GetAsync("/api/eval/images/..%2Fresults.csv");
        Assert.Equal(HttpStatusCode.NotFound, path.StatusCode);
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
