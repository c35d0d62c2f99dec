using System.Diagnostics;
using System.Text.Json;
using LatentIndigo.Tests.Diffusion.Import;

namespace LatentIndigo.Web.Tests.Api;

/// <summary>
/// <c>--model</c> takes what <c>RestorationPipeline.Load</c> takes: here a tiny SD 1.x-shaped diffusers pipeline folder
/// (random weights, written by the Core tests' <see cref="TinyDiffusersFolder"/>), converted once into the import
/// cache and reused by the next start, and tiny single-file checkpoints (<see cref="LdmCheckpointBuilder"/>); a bad
/// <c>--model</c> stops the start with one line, not a stack trace.
/// </summary>
public sealed class ModelApiTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("latentindigo-web-model-").FullName;

    private string Cache => Path.Combine(temp, "cache");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public async Task A_diffusers_folder_is_converted_once_into_the_import_cache_and_restores_with_diffusion()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        string entry;
        DateTime written;
        using (var factory = new ModelFactory(source.Path, Cache))
        {
            var client = factory.Client();
            var health = JsonDocument.Parse(await client.Http.GetStringAsync("/api/health")).RootElement;
            Assert.Equal("model", health.GetProperty("mode").GetString());
            Assert.Equal("", health.GetProperty("notice").GetString());
            string model = health.GetProperty("model").GetString()!;
            Assert.StartsWith($"diffusers pipeline folder '{Path.GetFileName(source.Path)}' (converted into the import cache) · fp32 · epsilon prediction · Cpu", model);
            Assert.DoesNotContain(temp, model);           // the page names what was loaded, not the server's paths
            Assert.DoesNotContain("stand-in", model);
            Assert.Equal(["pixel", "none", "inn-only"], health.GetProperty("strategies").EnumerateArray().Select(s => s.GetString()));
            Assert.Equal("pixel", health.GetProperty("defaultStrategy").GetString());

            entry = Assert.Single(Directory.GetDirectories(Cache));
            Assert.True(File.Exists(Path.Combine(entry, "unet", "model.onnx")), "the cache entry is not an ONNX export");
            written = Directory.GetLastWriteTimeUtc(entry);

            // The converted UNet, VAE and text encoder run: a pixel-guided diffusion restore to the ×4 size.
            string id = await client.StartAsync(TestImages.Chelsea, new Dictionary<string, string>
            {
                ["strategy"] = "pixel", ["degradation"] = "bicubic:x4", ["steps"] = "4", ["strength"] = "0.5", ["seed"] = "3",
            });
            var events = await client.RunToEndAsync(id);
            Assert.True(events[^1].Kind == "done", $"the job ended with {events[^1].Kind}: {events[^1].Data}");
            Assert.Contains(events, e => e.Kind == "progress" && e.Data.GetProperty("stage").GetString() == "Sampling");
            var summary = (await client.StatusAsync(id)).GetProperty("summary");
            Assert.True(summary.GetProperty("usedGenerativePrior").GetBoolean());
            Assert.False(summary.GetProperty("standInModels").GetBoolean());
            Assert.Equal((TestImages.ChelseaWidth * 4, TestImages.ChelseaHeight * 4), TestImages.PngSize(await client.Http.GetByteArrayAsync($"/api/jobs/{id}/result")));
        }

        // A second start reuses the conversion: the same entry, not written again.
        using (var again = new ModelFactory(source.Path, Cache))
        {
            var health = JsonDocument.Parse(await again.Client().Http.GetStringAsync("/api/health")).RootElement;
            Assert.Equal("model", health.GetProperty("mode").GetString());
            Assert.Equal(entry, Assert.Single(Directory.GetDirectories(Cache)));
            Assert.Equal(written, Directory.GetLastWriteTimeUtc(entry));
        }
    }

    [Fact]
    public async Task A_single_file_checkpoint_is_converted_into_the_import_cache_and_restores_with_diffusion()
    {
        // .safetensors here (a .ckpt took as long, about a minute on the 2-core machine, and only its reader differs:
        // the Core tests' SingleFileCheckpointTests read both).
        const string fileName = "sd1-tiny.safetensors";
        // An SD 1.x-shaped checkpoint in the original LDM layout, with a VAE that downscales by 8 as SD's (4 levels; the
        // library refuses others) and CLIP's full vocabulary (a converted single file gets a tokenizer for the empty
        // prompt, with CLIP's start and end token ids).
        string checkpoint = Path.Combine(temp, fileName);
        var model = TinyLdm.Sd1 with { VaeChannels = [32, 32, 32, 32], VaeLayers = 1, Vocabulary = 49408 };
        LdmCheckpointBuilder.Write(checkpoint, LdmCheckpointBuilder.Enumerate(model), LatentIndigo.Weights.WeightDType.Float16);
        using var factory = new ModelFactory(checkpoint, Cache);
        var client = factory.Client();
        var health = JsonDocument.Parse(await client.Http.GetStringAsync("/api/health")).RootElement;
        Assert.Equal("model", health.GetProperty("mode").GetString());
        Assert.StartsWith($"single-file checkpoint '{fileName}' (converted into the import cache) · fp32 · epsilon prediction", health.GetProperty("model").GetString());
        Assert.True(File.Exists(Path.Combine(Assert.Single(Directory.GetDirectories(Cache)), "unet", "model.onnx")));

        string id = await client.StartAsync(TestImages.Chelsea, new Dictionary<string, string>
        {
            ["strategy"] = "pixel", ["degradation"] = "bicubic:x4", ["steps"] = "3", ["strength"] = "0.5",
        });
        var events = await client.RunToEndAsync(id);
        Assert.True(events[^1].Kind == "done", $"the job ended with {events[^1].Kind}: {events[^1].Data}");
        Assert.True((await client.StatusAsync(id)).GetProperty("summary").GetProperty("usedGenerativePrior").GetBoolean());
        Assert.Equal((TestImages.ChelseaWidth * 4, TestImages.ChelseaHeight * 4), TestImages.PngSize(await client.Http.GetByteArrayAsync($"/api/jobs/{id}/result")));
    }

    public static TheoryData<string, string> BadModels => new()
    {
        { "missing", "does not exist. --model takes a Stable Diffusion ONNX export folder, a diffusers pipeline folder" },
        { "text-file", "is a file but not a checkpoint. --model takes" },
        { "empty-folder", "is neither an ONNX export folder (unet/model.onnx" },
        { "incomplete-export", "is not a usable Stable Diffusion ONNX export" },
        { "damaged-checkpoint", "is neither a safetensors file nor a PyTorch checkpoint" },
    };

    [Theory]
    [MemberData(nameof(BadModels))]
    public async Task A_bad_model_stops_the_start_with_one_line_naming_the_cause(string kind, string message)
    {
        string model = Path.Combine(temp, kind switch { "text-file" => "notes.txt", "damaged-checkpoint" => "model.safetensors", _ => kind });
        switch (kind)
        {
            case "text-file":
                await File.WriteAllTextAsync(model, "not a model");
                break;
            case "damaged-checkpoint":
                await File.WriteAllBytesAsync(model, [.. "garbage, not safetensors"u8]);
                break;
            case "empty-folder":
                Directory.CreateDirectory(model);
                break;
            case "incomplete-export":
                Directory.CreateDirectory(Path.Combine(model, "unet"));
                await File.WriteAllTextAsync(Path.Combine(model, "model_index.json"), "{}");
                await File.WriteAllTextAsync(Path.Combine(model, "unet", "model.onnx"), "");
                break;
        }

        // The app as `dotnet run --project samples/LatentIndigo.Web -- --model ...` runs it (its Program, its catch).
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "LatentIndigo.Web.dll"), "--model", model, "--import-cache", Cache, "--urls", "http://127.0.0.1:0" })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the app started (or hung) with --model {kind}: {await stdout}");
        }
        string error = await stderr, output = await stdout;
        Assert.True(process.ExitCode == 1, $"exit code {process.ExitCode}; stderr: {error}; stdout: {output}");
        Assert.StartsWith($"error: ", error);
        Assert.Contains(model, error);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error + output);
        Assert.DoesNotContain("Exception", error);
        // Nothing half-converted is left in the cache.
        Assert.Empty(Directory.Exists(Cache) ? Directory.GetFileSystemEntries(Cache) : []);
    }

    /// <summary>The demo with <c>--model</c> and its own import cache (the default limits: a real model's pixel restore fits).</summary>
    private sealed class ModelFactory(string model, string cache) : DemoFactory
    {
        protected override bool StandIn => false;

        protected override IEnumerable<(string Key, string Value)> Settings => [("Demo:Model", model), ("Demo:ImportCacheFolder", cache)];
    }
}
