using LatentIndigo.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace LatentIndigo.Web.Tests.Browser;

/// <summary>
/// The demo on a free loopback port with stand-in models and small limits (as <see cref="Api.DemoFactory"/>), and
/// Debian's chromium driven by Playwright for .NET. Browsers are never downloaded: chromium must be installed
/// (<c>apt-get install -y chromium</c>; .ci/run does it), and without it every browser test fails saying so.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    // Records every Server-Sent Event the page receives (window.__events), so tests see the progress events arrive.
    private const string RecordEvents = """
        window.__events = [];
        const add = EventSource.prototype.addEventListener;
        EventSource.prototype.addEventListener = function (type, listener, options) {
          return add.call(this, type, (e) => { window.__events.push({ type, data: JSON.parse(e.data) }); listener(e); }, options);
        };
        """;

    private WebApplication? app;
    private IPlaywright? playwright;
    private IBrowserContext? browser;
    private string? profile;
    private readonly EvalFolderFixture evalFolder = new();

    public string BaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The browser tests need Debian's chromium at {ChromiumPath}, which is missing. Install it with `apt-get install -y chromium` " +
                "(.ci/run does); Playwright's own browsers cannot be downloaded here.");
        }
        app = DemoApp.Build(
        [
            "--stand-in", "--urls", "http://127.0.0.1:0", "--eval", evalFolder.Path,
            "--Demo:MaxUploadBytes=100000", "--Demo:MaxInputMegapixels=0.05", "--Demo:MaxOutputMegapixels=0.2",
            "--Demo:MaxRestoreMemoryMiB=2048", "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        BaseUrl = app.Urls.Single();
        playwright = await Playwright.CreateAsync();
        profile = Directory.CreateTempSubdirectory("latentindigo-chromium-").FullName;
        browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
            ViewportSize = new ViewportSize { Width = 1100, Height = 900 },
        });
    }

    /// <summary>A new tab on the demo's page (or another app's, at <paramref name="baseUrl"/>), its settings loaded from /api/health.</summary>
    public async Task<IPage> OpenPageAsync(string? baseUrl = null)
    {
        var page = await browser!.NewPageAsync();
        page.SetDefaultTimeout(90_000);
        await page.AddInitScriptAsync(RecordEvents);
        await page.GotoAsync(baseUrl ?? BaseUrl);
        await page.WaitForSelectorAsync("#strategy option", new() { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync("#sample-select option[value='chelsea_x4.png']", new() { State = WaitForSelectorState.Attached });
        return page;
    }

    /// <summary>Saves a screenshot when LATENTINDIGO_WEB_SCREENSHOTS names a folder (how docs/images/web-*.png are made).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("LATENTINDIGO_WEB_SCREENSHOTS") is { Length: > 0 } folder)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name), FullPage = true });
        }
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
        }
        playwright?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        if (profile is not null)
        {
            Directory.Delete(profile, recursive: true);
        }
        evalFolder.Dispose();
    }
}

/// <summary>The browser tests: one app and one chromium for all of them.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
