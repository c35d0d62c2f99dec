using LatentIndigo.Tests.Diffusion.Import;
using LatentIndigo.Web.Hosting;
using Microsoft.AspNetCore.Builder;

namespace LatentIndigo.Web.Tests.Browser;

/// <summary>
/// What the page says about the server's models, in chromium, on apps started as <c>dotnet run</c> starts them: without
/// <c>--model</c> (INN-only), and with <c>--model</c> on a tiny diffusers folder (converted into a test cache).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ModePageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Without_a_model_the_page_says_it_restores_inn_only_and_offers_only_that()
    {
        await using var app = await StartAsync([]);
        var page = await fixture.OpenPageAsync(app.Url);
        Assert.True(await page.IsVisibleAsync("#mode-notice"));
        var notice = await page.TextContentAsync("#mode-notice");
        Assert.Contains("restoration is INN-only (no generative prior)", notice);
        Assert.Contains("--model", notice);
        Assert.True(await page.IsHiddenAsync("#model-info"));
        Assert.Equal(["inn-only"], await page.EvalOnSelectorAllAsync<string[]>("#strategy option", "os => os.map(o => o.value)"));
        Assert.Contains("inn-only", await page.TextContentAsync("#version"));
        await page.CloseAsync();
    }

    [Fact]
    public async Task With_a_model_the_page_names_what_was_loaded()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        var cache = Directory.CreateTempSubdirectory("latentindigo-web-cache-").FullName;
        try
        {
            await using var app = await StartAsync(["--model", source.Path, "--import-cache", cache]);
            var page = await fixture.OpenPageAsync(app.Url);
            await page.WaitForSelectorAsync("#model-info", new() { State = Microsoft.Playwright.WaitForSelectorState.Visible });
            Assert.StartsWith($"Model: diffusers pipeline folder '{Path.GetFileName(source.Path)}' (converted into the import cache) · fp32 · epsilon prediction",
                await page.TextContentAsync("#model-info"));
            Assert.True(await page.IsHiddenAsync("#mode-notice")); // a real model: no INN-only or stand-in banner
            Assert.Equal(["pixel", "none", "inn-only"], await page.EvalOnSelectorAllAsync<string[]>("#strategy option", "os => os.map(o => o.value)"));
            Assert.Equal("pixel", await page.EvalOnSelectorAsync<string>("#strategy", "s => s.value"));
            await page.CloseAsync();
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    private static async Task<RunningApp> StartAsync(string[] args)
    {
        var app = DemoApp.Build([.. args, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        return new RunningApp(app);
    }

    /// <summary>An app on a free loopback port, stopped and disposed (with its pipeline) at the end of the test.</summary>
    private sealed class RunningApp(WebApplication app) : IAsyncDisposable
    {
        public string Url => app.Urls.Single();

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
