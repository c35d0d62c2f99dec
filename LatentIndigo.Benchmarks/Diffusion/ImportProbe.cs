using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using LatentIndigo.Tests.Diffusion.Import;
using LatentIndigo.Weights;

namespace LatentIndigo.Benchmarks.Diffusion;

/// <summary>
/// Speed and memory of <see cref="StableDiffusionImport"/> at real size (issue 22, deliverable 6): a full-size
/// SD 2.1-base-shaped checkpoint with random fp16 weights, written by the library's own writers in the diffusers folder
/// layout and as one LDM single file, is converted to ONNX, side by side with a plain copy of the same source bytes.
/// Every measurement runs in a fresh child process, which reports its wall time and peak resident memory (VmHWM from
/// /proc/self/status) plus the peaks of its anonymous and file-backed resident pages, sampled every 50 ms. "Cold" runs
/// first evict the source from the page cache (posix_fadvise DONTNEED, no root needed); "warm" runs follow at once.
/// <code>
/// dotnet run -c Release --project LatentIndigo.Benchmarks -- --import-probe write /tmp/sdprobe
/// dotnet run -c Release --project LatentIndigo.Benchmarks -- --import-probe run /tmp/sdprobe [fp32|fp16] [rounds]
/// </code>
/// The checkpoints take 2.6 GB each and every conversion writes 5.2 GB (fp32) into the same folder, deleted after each
/// run: use a folder outside the repository and delete it when done.
/// </summary>
internal static class ImportProbe
{
    public const string Flag = "--import-probe";

    private const string DiffusersName = "sd21-base-diffusers";
    private const string SingleFileName = "sd21-base-ldm.safetensors";

    public static void Run(string[] args)
    {
        switch (args)
        {
            case ["write", var folder]:
                Write(folder);
                break;
            case ["run", var folder, ..]:
                Drive(folder, args.Length > 2 ? args[2] : "fp32", args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1);
                break;
            case ["child", "copy", var source, var output]:
                Child(() => CopyTree(source, output));
                break;
            case ["child", "convert", var from, var to, var outputPrecision]:
                Child(() => StableDiffusionImport.Convert(from, to, new StableDiffusionImportOptions
                {
                    Precision = outputPrecision == "fp16" ? ModelPrecision.Float16 : ModelPrecision.Float32,
                    PredictionType = PredictionType.Epsilon,
                }));
                break;
            default:
                Console.Error.WriteLine($"usage: {Flag} write <folder> | {Flag} run <folder> [fp32|fp16] [rounds]");
                Environment.ExitCode = 2;
                break;
        }
    }

    // ---- writing the checkpoints -------------------------------------------------------------------------------

    private static void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var watch = Stopwatch.StartNew();
        WriteDiffusers(Path.Combine(folder, DiffusersName));
        Console.WriteLine($"diffusers folder written in {watch.Elapsed.TotalSeconds:F0} s ({Size(Path.Combine(folder, DiffusersName)) / 1e9:F2} GB)");
        watch.Restart();
        WriteSingleFile(Path.Combine(folder, SingleFileName));
        Console.WriteLine($"single file written in {watch.Elapsed.TotalSeconds:F0} s ({Size(Path.Combine(folder, SingleFileName)) / 1e9:F2} GB)");
    }

    private static readonly SdUnetConfig Unet = SdUnetConfig.Sd21Base with { HeadsPerLevel = [5, 10, 20, 20] };

    private static void WriteDiffusers(string path)
    {
        var u = Unet;
        var v = SdVaeConfig.Sd;
        var t = ClipTextConfig.Sd21;
        int levels = u.BlockOutChannels.Length;
        WriteComponent(path, "unet", "diffusion_pytorch_model.safetensors", SdParameterCount.UnetParameters(u), new Dictionary<string, object?>
        {
            ["_class_name"] = "UNet2DConditionModel", ["_diffusers_version"] = "0.27.0", ["act_fn"] = "silu",
            ["attention_head_dim"] = u.HeadsPerLevel, ["block_out_channels"] = u.BlockOutChannels, ["center_input_sample"] = false,
            ["cross_attention_dim"] = u.CrossAttentionDim,
            ["down_block_types"] = Enumerable.Range(0, levels).Select(i => i < levels - 1 ? "CrossAttnDownBlock2D" : "DownBlock2D").ToArray(),
            ["downsample_padding"] = 1, ["flip_sin_to_cos"] = true, ["freq_shift"] = 0, ["in_channels"] = 4, ["layers_per_block"] = u.LayersPerBlock,
            ["mid_block_scale_factor"] = 1, ["norm_eps"] = 1e-05, ["norm_num_groups"] = 32, ["out_channels"] = 4, ["sample_size"] = 64,
            ["up_block_types"] = Enumerable.Range(0, levels).Select(i => i == 0 ? "UpBlock2D" : "CrossAttnUpBlock2D").ToArray(),
            ["use_linear_projection"] = true, ["upcast_attention"] = false,
        });
        WriteComponent(path, "vae", "diffusion_pytorch_model.safetensors",
            [.. SdParameterCount.VaeEncoderParameters(v), .. SdParameterCount.VaeDecoderParameters(v)], new Dictionary<string, object?>
            {
                ["_class_name"] = "AutoencoderKL", ["act_fn"] = "silu", ["block_out_channels"] = v.BlockOutChannels,
                ["down_block_types"] = Enumerable.Repeat("DownEncoderBlock2D", 4).ToArray(), ["up_block_types"] = Enumerable.Repeat("UpDecoderBlock2D", 4).ToArray(),
                ["in_channels"] = 3, ["out_channels"] = 3, ["latent_channels"] = 4, ["layers_per_block"] = 2, ["norm_num_groups"] = 32,
                ["sample_size"] = 512, ["scaling_factor"] = 0.18215,
            });
        WriteComponent(path, "text_encoder", "model.safetensors", SdParameterCount.TextParameters(t), new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "CLIPTextModel" }, ["model_type"] = "clip_text_model", ["hidden_act"] = "gelu", ["hidden_size"] = t.Hidden,
            ["intermediate_size"] = t.Intermediate, ["num_attention_heads"] = t.Heads, ["num_hidden_layers"] = t.Layers,
            ["max_position_embeddings"] = 77, ["vocab_size"] = t.VocabularySize, ["layer_norm_eps"] = 1e-05, ["torch_dtype"] = "float16",
        });
        StandInTokenizerFiles.Write(Path.Combine(path, "tokenizer"), StandInTokenizerFiles.Sd2PadToken);
        Directory.CreateDirectory(Path.Combine(path, "scheduler"));
        File.WriteAllText(Path.Combine(path, "scheduler", "scheduler_config.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["_class_name"] = "DDIMScheduler", ["beta_end"] = 0.012, ["beta_schedule"] = "scaled_linear", ["beta_start"] = 0.00085,
            ["num_train_timesteps"] = 1000, ["prediction_type"] = "epsilon", ["set_alpha_to_one"] = false, ["steps_offset"] = 1, ["clip_sample"] = false,
        }));
        File.WriteAllText(Path.Combine(path, "model_index.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["_class_name"] = "StableDiffusionPipeline", ["_diffusers_version"] = "0.27.0", ["scheduler"] = new[] { "diffusers", "DDIMScheduler" },
            ["text_encoder"] = new[] { "transformers", "CLIPTextModel" }, ["tokenizer"] = new[] { "transformers", "CLIPTokenizer" },
            ["unet"] = new[] { "diffusers", "UNet2DConditionModel" }, ["vae"] = new[] { "diffusers", "AutoencoderKL" },
        }));
    }

    private static void WriteComponent(string path, string component, string fileName, IEnumerable<(string Name, long[] Shape)> tensors, object config)
    {
        var dir = Directory.CreateDirectory(Path.Combine(path, component)).FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config));
        WriteRandom(Path.Combine(dir, fileName), tensors.Select(p => new WeightInfo(p.Name, WeightDType.Float16, p.Shape)).ToList());
    }

    /// <summary>SD 2.1-base in the original LDM layout, with all 24 OpenCLIP text blocks as the published v2-1_512 files carry them.</summary>
    private static void WriteSingleFile(string path)
    {
        var shape = new TinyLdm([320, 640, 1280, 1280], 2, 1024, true, [128, 256, 512, 512], 2, 1024, 24, 4096, OpenClip: true,
            VaeAttentionAsConv: true, Vocabulary: 49408);
        WriteRandom(path, LdmCheckpointBuilder.Enumerate(shape).Select(t => new WeightInfo(t.Ldm, WeightDType.Float16, t.Shape)).ToList());
    }

    // Random values of weight-like size (±0.05), one tensor at a time through the library's streaming writer.
    private static void WriteRandom(string file, List<WeightInfo> tensors)
    {
        var random = new Random(22);
        using var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var writer = new SafetensorsWriter(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var info in tensors)
        {
            var values = new float[info.ElementCount];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (random.NextSingle() - 0.5f) * 0.1f;
            }
            writer.Write(info.Name, values);
        }
        writer.Complete();
    }

    // ---- the measurements --------------------------------------------------------------------------------------

    private sealed record Measurement(string Layout, string Cache, string Operation, double Seconds, double CpuSeconds, long PeakRssKb, long PeakAnonKb, long PeakFileKb, long OutputBytes);

    private static void Drive(string folder, string precision, int rounds)
    {
        var results = new List<Measurement>();
        foreach (var round in Enumerable.Range(0, rounds))
        {
            foreach (var (layout, source) in new[] { ("diffusers", Path.Combine(folder, DiffusersName)), ("single file", Path.Combine(folder, SingleFileName)) })
            {
                foreach (var cache in new[] { "cold", "warm" })
                {
                    foreach (var operation in new[] { "copy", "convert" })
                    {
                        var output = Path.Combine(folder, "out-" + Guid.NewGuid().ToString("N")[..8]);
                        if (cache == "cold")
                        {
                            Evict(source);
                        }
                        else
                        {
                            CopyTree(source, null); // warm: read once so the whole source is in the page cache
                        }
                        var m = Spawn(layout, cache, operation, operation == "copy"
                            ? ["child", "copy", source, output]
                            : ["child", "convert", source, output, precision]);
                        results.Add(m with { OutputBytes = Size(output) });
                        Delete(output);
                        Console.WriteLine(Format(results[^1]));
                    }
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine($"| layout | page cache | operation | wall s | CPU s | peak RSS MiB | peak anon MiB | peak file-backed MiB | written GB |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var m in results)
        {
            Console.WriteLine($"| {m.Layout} | {m.Cache} | {m.Operation} ({(m.Operation == "convert" ? precision : "bytes")}) | {m.Seconds:F1} | {m.CpuSeconds:F1} | {m.PeakRssKb / 1024} | {m.PeakAnonKb / 1024} | {m.PeakFileKb / 1024} | {m.OutputBytes / 1e9:F2} |");
        }
        foreach (var group in results.GroupBy(m => (m.Layout, m.Cache)))
        {
            var copy = group.Where(m => m.Operation == "copy").Average(m => m.Seconds);
            var convert = group.Where(m => m.Operation == "convert").Average(m => m.Seconds);
            Console.WriteLine($"{group.Key.Layout}, {group.Key.Cache}: convert / copy = {convert / copy:F2}");
        }
    }

    private static string Format(Measurement m) =>
        $"{m.Layout,-11} {m.Cache} {m.Operation,-7} {m.Seconds,6:F1} s (CPU {m.CpuSeconds:F1} s)  peak RSS {m.PeakRssKb / 1024,5} MiB (anon {m.PeakAnonKb / 1024}, file {m.PeakFileKb / 1024})  wrote {m.OutputBytes / 1e9:F2} GB";

    private static Measurement Spawn(string layout, string cache, string operation, string[] childArgs)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (!Environment.ProcessPath!.EndsWith("LatentIndigo.Benchmarks", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(ImportProbe).Assembly.Location); // run through the dotnet host
        }
        start.ArgumentList.Add(Flag);
        foreach (var a in childArgs)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        string? result = null;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                result = line;
            }
        }
        process.WaitForExit();
        if (process.ExitCode != 0 || result is null)
        {
            throw new InvalidOperationException($"The {operation} child failed (exit code {process.ExitCode}).");
        }
        var f = result.Split(' ');
        return new Measurement(layout, cache, operation, double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[5], CultureInfo.InvariantCulture),
            long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture), long.Parse(f[4], CultureInfo.InvariantCulture), 0);
    }

    // In the child: run the operation while sampling RssAnon and RssFile; report wall time and the peaks.
    private static void Child(Action operation)
    {
        long peakAnon = 0, peakFile = 0;
        using var done = new ManualResetEventSlim();
        var sampler = new Thread(() =>
        {
            do
            {
                var (anon, file, _) = Status();
                peakAnon = Math.Max(peakAnon, anon);
                peakFile = Math.Max(peakFile, file);
            }
            while (!done.Wait(50));
        }) { IsBackground = true };
        sampler.Start();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        operation();
        double seconds = watch.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        done.Set();
        sampler.Join();
        var (_, _, hwm) = Status();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {seconds:F2} {hwm} {peakAnon} {peakFile} {cpuSeconds:F2}"));
    }

    private static (long AnonKb, long FileKb, long HwmKb) Status()
    {
        long anon = 0, file = 0, hwm = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            static long Kb(string l) => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anon = Kb(line);
            }
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
            {
                file = Kb(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = Kb(line);
            }
        }
        return (anon, file, hwm);
    }

    // A user-space copy with a 4 MiB buffer (not File.Copy, which may clone or copy inside the kernel); null only reads.
    private static void CopyTree(string source, string? destination)
    {
        var buffer = new byte[4 << 20];
        foreach (var (from, relative) in Files(source))
        {
            using var input = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            FileStream? output = null;
            if (destination is not null)
            {
                var to = relative.Length == 0 ? destination : Path.Combine(destination, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                output = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
            }
            using (output)
            {
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    output?.Write(buffer, 0, read);
                }
            }
        }
    }

    private static IEnumerable<(string Path, string Relative)> Files(string source) =>
        File.Exists(source)
            ? [(source, "")]
            : Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Select(f => (f, Path.GetRelativePath(source, f)));

    private static void Evict(string source)
    {
        Sync(); // dirty pages (a freshly written source) are not evicted
        foreach (var (file, _) in Files(source))
        {
            using var handle = File.OpenHandle(file);
            _ = PosixFadvise(handle.DangerousGetHandle().ToInt32(), 0, 0, 4 /* POSIX_FADV_DONTNEED */);
        }
    }

    [DllImport("libc", EntryPoint = "sync")]
    private static extern void Sync();

    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int PosixFadvise(int fd, long offset, long length, int advice);

    private static long Size(string path) =>
        File.Exists(path) ? new FileInfo(path).Length
        : Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;

    private static void Delete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
