using System.Text.Json;
using Microsoft.Playwright;

namespace LatentIndigo.Web.Tests.Browser;

/// <summary>The page in chromium: a restore with progress, cancel, compare, and each limit's message on the page.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_bundled_sample_restores_with_progress_and_the_result_has_the_scaled_size()
    {
        var page = await fixture.OpenPageAsync();
        Assert.Contains("random weights", await page.TextContentAsync("#mode-notice"));
        await page.SelectOptionAsync("#sample-select", "chelsea_x4.png");
        await page.WaitForFunctionAsync("() => document.querySelector('#input-info').textContent.includes('112×75')");
        await Settings(page, strategy: "latent", degradation: "bicubic:x4", steps: "8");
        await page.ClickAsync("#restore-button");
        await page.WaitForFunctionAsync("() => !document.querySelector('#result').hidden || !document.querySelector('#error').hidden");
        Assert.True(await page.IsHiddenAsync("#error"), $"the page shows an error: {await page.TextContentAsync("#error")}");

        // Progress events arrived before the end, each saying the stage, and sampling steps counted up to the total.
        var events = await Events(page);
        var sampling = events.Where(e => e.Type == "progress" && e.Data.GetProperty("stage").GetString() == "Sampling").ToList();
        Assert.NotEmpty(sampling);
        Assert.All(sampling, e => Assert.InRange(e.Data.GetProperty("step").GetInt32(), 1, e.Data.GetProperty("totalSteps").GetInt32()));
        Assert.Equal("done", events[^1].Type);
        Assert.StartsWith("Done in", await page.TextContentAsync("#progress-text"));

        Assert.Equal(448, await page.EvalOnSelectorAsync<int>("#result-image", "img => img.naturalWidth"));
        Assert.Equal(300, await page.EvalOnSelectorAsync<int>("#result-image", "img => img.naturalHeight"));
        Assert.Contains("112×75 → 448×300", await page.TextContentAsync("#figures"));
        Assert.Contains("time: Sampling", await page.TextContentAsync("#figures"));
        Assert.Contains("coarse PSNR", await page.TextContentAsync("#figures"));
        Assert.StartsWith("blob:", await page.GetAttributeAsync("#download", "href"));
        Assert.Equal("chelsea_x4-restored.png", await page.GetAttributeAsync("#download", "download"));

        // The slider uncovers the input; the 1:1 zoom draws both images.
        await page.FillAsync("#slider", "30");
        Assert.Contains("70%", await page.EvalOnSelectorAsync<string>("#before-image", "img => img.style.clipPath"));
        await page.ClickAsync("#before-after", new() { Position = new Position { X = 40, Y = 40 } });
        foreach (var canvas in new[] { "#zoom-before", "#zoom-after" })
        {
            Assert.Equal(255, await page.EvalOnSelectorAsync<int>(canvas, "c => c.getContext('2d').getImageData(80, 80, 1, 1).data[3]"));
        }
        await page.CloseAsync();
    }

    [Fact]
    public async Task An_inn_only_restore_shows_the_real_bundled_inns_result()
    {
        // The stand-ins' random weights give noise; the bundled pixel INN is real: this is the docs' result screenshot.
        var page = await fixture.OpenPageAsync();
        await page.SetInputFilesAsync("#file-input", TestImages.ChelseaPath);
        await Settings(page, strategy: "inn-only", degradation: "bicubic:x4", steps: "8");
        await page.ClickAsync("#restore-button");
        await page.WaitForFunctionAsync("() => !document.querySelector('#result').hidden || !document.querySelector('#error').hidden");
        Assert.True(await page.IsHiddenAsync("#error"), $"the page shows an error: {await page.TextContentAsync("#error")}");
        var figures = await page.TextContentAsync("#figures");
        Assert.Contains("inn-only (no generative prior)", figures);
        // A known degradation makes the INN-only result re-degrade to the input closely (measured 72.5 dB here; a
        // bicubic upscale alone re-degrades at about 42 dB).
        var psnr = double.Parse(System.Text.RegularExpressions.Regex.Match(figures!, @"coarse PSNR([\d.]+) dB").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(psnr > 50, $"coarse PSNR {psnr} dB");
        await page.FillAsync("#slider", "40");
        await page.ClickAsync("#before-after", new() { Position = new Position { X = 150, Y = 90 } });
        await BrowserFixture.ScreenshotAsync(page, "web-result.png");
        await page.CloseAsync();
    }

    [Fact]
    public async Task An_image_dropped_on_the_page_is_uploaded_and_restored()
    {
        var page = await fixture.OpenPageAsync();
        Assert.True(await page.IsDisabledAsync("#restore-button"));
        // A drag from the desktop as the browser delivers it: dragover, then drop, with a DataTransfer holding the file
        // (the bundled sample's bytes, made into a File in the page).
        bool highlighted = await page.EvaluateAsync<bool>("""
            ([base64, name]) => {
              const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
              const transfer = new DataTransfer();
              transfer.items.add(new File([bytes], name, { type: "image/png" }));
              const zone = document.getElementById("drop-zone");
              zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
              const dragging = zone.classList.contains("dragging");
              zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
              return dragging;
            }
            """, new[] { Convert.ToBase64String(TestImages.Chelsea), "dropped.png" });
        Assert.True(highlighted, "the drop zone did not highlight on dragover");
        Assert.False(await page.EvalOnSelectorAsync<bool>("#drop-zone", "z => z.classList.contains('dragging')"));
        await page.WaitForFunctionAsync("() => document.querySelector('#input-info').textContent.startsWith('dropped.png: 112×75')");
        Assert.Equal(0, await page.EvalOnSelectorAsync<int>("#file-input", "i => i.files.length")); // the file came from the drop
        Assert.True(await page.IsEnabledAsync("#restore-button"));

        await Settings(page, strategy: "inn-only", degradation: "bicubic:x4", steps: "8");
        await page.ClickAsync("#restore-button");
        await page.WaitForFunctionAsync("() => !document.querySelector('#result').hidden || !document.querySelector('#error').hidden");
        Assert.True(await page.IsHiddenAsync("#error"), $"the page shows an error: {await page.TextContentAsync("#error")}");
        Assert.Equal("done", (await Events(page))[^1].Type);
        Assert.Equal(448, await page.EvalOnSelectorAsync<int>("#result-image", "img => img.naturalWidth"));
        Assert.Equal(300, await page.EvalOnSelectorAsync<int>("#result-image", "img => img.naturalHeight"));
        Assert.Contains("112×75 → 448×300", await page.TextContentAsync("#figures"));
        Assert.Equal("dropped-restored.png", await page.GetAttributeAsync("#download", "download"));
        await page.CloseAsync();
    }

    [Fact]
    public async Task Cancel_stops_a_running_restore()
    {
        var page = await fixture.OpenPageAsync();
        await page.SetInputFilesAsync("#file-input", TestImages.ChelseaPath);
        await Settings(page, strategy: "latent", degradation: "bicubic:x4", steps: "200", strength: "1");
        await page.ClickAsync("#restore-button");
        await page.WaitForFunctionAsync("() => document.querySelector('#progress-text').textContent.startsWith('Sampling: step')");
        await page.ClickAsync("#cancel-button");
        await page.WaitForFunctionAsync("() => document.querySelector('#progress-text').textContent === 'Cancelled.'");
        Assert.Equal("Cancelled by the client.", await page.TextContentAsync("#error"));
        Assert.True(await page.IsHiddenAsync("#result"));
        Assert.True(await page.IsEnabledAsync("#restore-button"));
        var events = await Events(page);
        Assert.Equal("cancelled", events[^1].Type);
        Assert.True(events.Count(e => e.Type == "progress") < 200);
        await page.CloseAsync();
    }

    [Fact]
    public async Task Compare_runs_two_strategies_and_shows_them_side_by_side()
    {
        var page = await fixture.OpenPageAsync();
        await page.SelectOptionAsync("#sample-select", "chelsea_x4.png");
        await page.WaitForFunctionAsync("() => document.querySelector('#input-info').textContent.includes('112×75')");
        await Settings(page, strategy: null, degradation: "bicubic:x4", steps: "6");
        await page.ClickAsync("#tab-compare");
        foreach (var strategy in new[] { "pixel", "latent", "none", "inn-only" })
        {
            await page.SetCheckedAsync($"input[name=compare-strategy][value='{strategy}']", strategy is "latent" or "inn-only");
        }
        await page.ClickAsync("#compare-button");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.compare-card img')].filter(i => i.complete && i.naturalWidth > 0).length === 2");

        var cards = await page.QuerySelectorAllAsync(".compare-card");
        Assert.Equal(new[] { "latent", "inn-only" }, (await Task.WhenAll(cards.Select(c => c.GetAttributeAsync("data-strategy")))).Select(s => s ?? ""));
        foreach (var card in cards)
        {
            Assert.Equal(448, await card.EvalOnSelectorAsync<int>("img", "img => img.naturalWidth"));
            Assert.Contains("448×300 in", await card.TextContentAsync());
        }
        // Side by side: the two cards share a row.
        var boxes = await Task.WhenAll(cards.Select(c => c.BoundingBoxAsync()));
        Assert.Equal(boxes[0]!.Y, boxes[1]!.Y);
        Assert.True(boxes[1]!.X > boxes[0]!.X + boxes[0]!.Width - 1);
        await BrowserFixture.ScreenshotAsync(page, "web-compare.png");
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_evaluation_view_shows_the_eval_folders_table_and_images()
    {
        var page = await fixture.OpenPageAsync();
        await page.ClickAsync("#tab-evaluation");
        await page.WaitForSelectorAsync("#evaluation table");
        Assert.True(await page.IsHiddenAsync("#input-panel"));
        var tables = await page.QuerySelectorAllAsync("#evaluation table");
        Assert.Equal(2, tables.Count);
        // The means table: inn-only (26 + 31) / 2 = 28.50 dB over 2 images.
        Assert.Contains("inn-only228.50", (await tables[0].TextContentAsync())!.Replace(" ", ""));
        Assert.Equal(5, (await tables[1].QuerySelectorAllAsync("tr")).Count); // header + 4 rows
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.eval-images img')].filter(i => i.complete && i.naturalWidth > 0).length === 2");
        Assert.Equal(["chart: chart.png", "grid: a.png"], (await page.Locator(".eval-images figcaption").AllTextContentsAsync()).ToArray());
        await page.CloseAsync();
    }

    public static TheoryData<string, string> Limits => new()
    {
        { "bytes", "the file is" },
        { "declared-bytes", "Cannot load image 'the upload': the file is" },
        { "pixels", "the image is 300×200 = 60,000 pixels, over the limit of 50,000." },
        { "output", "restored ×8 it would be 896×600 = 537,600 pixels, over the limit of 200,000" },
        { "memory", "over this server's limit of 2.0 GiB per restore." },
        { "setting", "steps must be 1–999 (Stable Diffusion's schedule has 1000 timesteps, and its steps_offset 1 puts a 1000-step schedule's first step at t = 1000, outside it); got 0." },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public async Task Each_limit_shows_the_servers_message_on_the_page(string limit, string message)
    {
        var page = await fixture.OpenPageAsync();
        var (bytes, name) = limit switch
        {
            "bytes" => (TestImages.Noise(200, 180), "noise.png"),          // ≈108 kB > 100 kB
            "declared-bytes" => (TestImages.Noise(300, 300), "big.png"),   // ≈270 kB: refused from Content-Length
            "pixels" => (TestImages.Flat(300, 200), "flat.png"),
            _ => (TestImages.Chelsea, "chelsea_x4.png"),
        };
        await page.SetInputFilesAsync("#file-input", new FilePayload { Name = name, MimeType = "image/png", Buffer = bytes });
        await Settings(page, strategy: limit == "memory" ? "pixel" : "inn-only", degradation: "unknown",
            steps: limit == "setting" ? "0" : "8", scale: limit == "output" ? "8" : "4");
        await page.ClickAsync("#restore-button");
        await page.WaitForFunctionAsync("() => document.querySelector('#progress-text').textContent === 'Refused.'");
        Assert.True(await page.IsVisibleAsync("#error"));
        Assert.Contains(message, await page.TextContentAsync("#error"));
        if (limit == "bytes")
        {
            Assert.Contains($"over the limit of 100,000", await page.TextContentAsync("#error"));
        }
        await page.CloseAsync();
    }

    private static async Task Settings(IPage page, string? strategy, string degradation, string steps, string strength = "0.57", string scale = "4")
    {
        if (strategy is not null)
        {
            await page.SelectOptionAsync("#strategy", strategy);
        }
        await page.FillAsync("#degradation", degradation);
        await page.SelectOptionAsync("#scale", scale);
        await page.FillAsync("#steps", steps);
        await page.FillAsync("#strength", strength);
    }

    private static async Task<List<(string Type, JsonElement Data)>> Events(IPage page)
    {
        var json = await page.EvaluateAsync<JsonElement>("() => window.__events");
        return json.EnumerateArray().Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("data").Clone())).ToList();
    }
}
