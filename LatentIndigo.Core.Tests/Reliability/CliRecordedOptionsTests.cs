using System.Reflection;
using LatentIndigo.Cli.Commands;
using LatentIndigo.Imaging;
using LatentIndigo.Tests.Batch;
using LatentIndigo.Tests.Cli;
using LatentIndigo.Tests.Invertible;
using Spectre.Console.Cli;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Reliability;

/// <summary>
/// Issue 26 on the command line: every option of <c>batch</c> and <c>train-inn</c> is enumerated from the settings
/// classes, and each must be classified here. An option that changes the output's bytes, changed on <c>--resume</c>,
/// is refused before any work with the output left as it was; one that does not is accepted and the output keeps its
/// bytes. A new option fails these tests until it is added to the table (and to docs/reliability.md).
/// </summary>
[Collection(TorchCpuSettingsCollection.Name)]
public class CliRecordedOptionsTests
{
    private enum Kind
    {
        /// <summary>Changes the bytes: recorded, a resume with another value is refused.</summary>
        Recorded,

        /// <summary>Cannot change the bytes: a resume with another value goes on.</summary>
        NotRecorded,

        /// <summary>Names the job itself (its inputs, its output, whether to resume): covered by other tests.</summary>
        Job,
    }

    private static IEnumerable<string> OptionProperties(Type settings) =>
        settings.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<CommandOptionAttribute>() is not null || p.GetCustomAttribute<CommandArgumentAttribute>() is not null)
            .Select(p => p.Name);

    private static void AssertEveryOptionClassified(Type settings, IReadOnlyDictionary<string, (Kind Kind, string[] Change)> table)
    {
        var missing = OptionProperties(settings).Where(n => !table.ContainsKey(n)).ToList();
        Assert.True(missing.Count == 0, $"{settings.DeclaringType?.Name} options not classified in {nameof(CliRecordedOptionsTests)}: {string.Join(", ", missing)}");
        var stale = table.Keys.Except(OptionProperties(settings)).ToList();
        Assert.True(stale.Count == 0, "classified but not options: " + string.Join(", ", stale));
    }

    private static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    [Fact]
    public void Every_batch_option_changed_on_resume_is_refused_when_it_changes_the_bytes_and_accepted_when_it_cannot()
    {
        using var folder = TestData.NewTempFolder();
        string input = BatchTestImages.Write(folder.File("in"), 2, width: 16, height: 12);
        string truth = BatchTestImages.Write(folder.File("truth"), 2, width: 64, height: 48, seed: 3);
        string models = Directory.CreateDirectory(folder.File("models")).FullName;
        string latentInn = folder.File("latent.inn");
        File.WriteAllBytes(latentInn, [1, 2, 3]);
        string output = folder.File("out");
        var table = new Dictionary<string, (Kind, string[])>
        {
            ["Input"] = (Kind.Job, []),
            ["Output"] = (Kind.Job, []),
            ["Resume"] = (Kind.Job, []),
            ["Concurrency"] = (Kind.NotRecorded, ["--concurrency", "2"]),
            ["GroundTruth"] = (Kind.NotRecorded, ["--ground-truth", truth]),
            ["NoRetry"] = (Kind.NotRecorded, ["--no-retry"]),
            ["Force"] = (Kind.NotRecorded, ["--force"]),
            ["Model"] = (Kind.Recorded, ["--model", models]),
            ["StandIn"] = (Kind.Recorded, ["--stand-in"]),
            ["StandInCost"] = (Kind.Recorded, ["--stand-in", "--stand-in-cost", "cpu"]),
            ["Strategy"] = (Kind.Recorded, ["--strategy", "pixel"]),
            ["Scale"] = (Kind.Recorded, ["--scale", "2"]),
            ["Degradation"] = (Kind.Recorded, ["--degradation", "bicubic:x4"]),
            ["Blind"] = (Kind.Recorded, ["--blind"]),
            ["NoBlind"] = (Kind.Recorded, ["--no-blind"]),
            ["Inn"] = (Kind.Recorded, ["--inn", "realworld-x4"]),
            ["LatentInn"] = (Kind.Recorded, ["--latent-inn", latentInn]),
            ["Steps"] = (Kind.Recorded, ["--steps", "12"]),
            ["Strength"] = (Kind.Recorded, ["--strength", "0.5"]),
            ["Seed"] = (Kind.Recorded, ["--seed", "8"]),
            ["Tile"] = (Kind.Recorded, ["--tile", "32"]),
            ["InnEngine"] = (Kind.Recorded, ["--inn-engine", "torchsharp"]),
            ["Estimator"] = (Kind.Recorded, ["--estimator", "esrgan-slim-x4"]),
            ["Provider"] = (Kind.Recorded, ["--provider", "cuda"]),
            ["AllowCpuFallback"] = (Kind.Recorded, ["--allow-cpu-fallback"]),
        };
        AssertEveryOptionClassified(typeof(BatchCommand.Settings), table);

        string[] job = ["batch", input, "-o", output, "--steps", "10"];
        var (code, text) = CliRun.Run(job);
        Assert.True(code == 0, text);
        var done = FaultInjection.Hashes(output);
        foreach (var (name, (kind, change)) in table.Where(t => t.Value.Item1 != Kind.Job))
        {
            (code, text) = CliRun.Run([.. job, "--resume", .. change]);
            if (kind == Kind.Recorded)
            {
                Assert.True(code != 0, $"{name}: a resume with {string.Join(' ', change)} was not refused: {text}");
                Assert.False(CliRun.HasStackTrace(text), text);
            }
            else
            {
                Assert.True(code == 0, $"{name}: a resume with {string.Join(' ', change)} was refused: {text}");
            }
            Assert.Equal(done, FaultInjection.Hashes(output));
        }
        // The refusals name what differs (a sample).
        Assert.Contains("inn=bundled:bicubic-x4", Flat(CliRun.Run([.. job, "--resume", "--inn", "realworld-x4"]).Output));
        Assert.Contains("Seed: 12345 then, 8 now", Flat(CliRun.Run([.. job, "--resume", "--seed", "8"]).Output));
    }

    [Fact]
    public void Every_train_inn_option_changed_on_resume_is_refused_when_it_changes_the_bytes_and_accepted_when_it_cannot()
    {
        using var folder = TestData.NewTempFolder();
        string images = Directory.CreateDirectory(folder.File("images")).FullName;
        string other = Directory.CreateDirectory(folder.File("other")).FullName;
        foreach (var name in new[] { "chelsea.png", "coffee.png" })
        {
            using var scope = NewDisposeScope();
            ImageIO.Save(nn.functional.avg_pool2d(ImageIO.Load(TestData.Cc0(name)), 4), Path.Combine(images, name));
        }
        File.Copy(Path.Combine(images, "chelsea.png"), Path.Combine(other, "chelsea.png"));
        string weights = folder.File("run.inn");
        var table = new Dictionary<string, (Kind, string[])>
        {
            ["Out"] = (Kind.Job, []),
            ["Resume"] = (Kind.Job, []),
            ["ValidateEvery"] = (Kind.NotRecorded, ["--validate-every", "3"]),
            ["CheckpointEvery"] = (Kind.NotRecorded, ["--checkpoint-every", "3"]),
            ["Images"] = (Kind.Recorded, ["--images", other]),
            ["Validation"] = (Kind.Recorded, ["--val", other]),
            ["Degradation"] = (Kind.Recorded, ["--degradation", "area:x4"]),
            ["Steps"] = (Kind.Recorded, ["--steps", "6"]),
            ["Batch"] = (Kind.Recorded, ["--batch", "1"]),
            ["Crop"] = (Kind.Recorded, ["--crop", "16"]),
            ["LearningRate"] = (Kind.Recorded, ["--lr", "1e-3"]),
            ["MinLearningRate"] = (Kind.Recorded, ["--min-lr", "1e-6"]),
            ["Warmup"] = (Kind.Recorded, ["--warmup", "5"]),
            ["WeightDecay"] = (Kind.Recorded, ["--weight-decay", "0.1"]),
            ["ResBlocks"] = (Kind.Recorded, ["--res-blocks", "2"]),
            ["Encoder"] = (Kind.Recorded, ["--encoder"]),
            ["EncoderLearningRateScale"] = (Kind.Recorded, ["--encoder-lr-scale", "2"]),
            ["EncoderPretrain"] = (Kind.Recorded, ["--encoder-pretrain", "5"]),
            ["Init"] = (Kind.Recorded, ["--init", "bicubic-x4"]),
            ["Quantize"] = (Kind.Recorded, ["--quantize"]),
            ["Seed"] = (Kind.Recorded, ["--seed", "2"]),
            ["Threads"] = (Kind.Recorded, ["--threads", "2"]),
            ["Latent"] = (Kind.Recorded, ["--latent", "--stand-in"]),
            ["Vae"] = (Kind.Recorded, ["--latent", "--vae", other]),
            ["StandIn"] = (Kind.Recorded, ["--latent", "--stand-in"]),
        };
        AssertEveryOptionClassified(typeof(TrainInnCommand.Settings), table);

        string[] job = ["train-inn", "--images", images, "--degradation", "bicubic:x4", "--steps", "4", "--batch", "2", "--crop", "32",
            "--res-blocks", "1", "--checkpoint-every", "2", "--validate-every", "2", "--out", weights, "--threads", "1"];
        var (code, text) = CliRun.Run(job);
        Assert.True(code == 0, text);
        byte[] trained = File.ReadAllBytes(weights), checkpoint = File.ReadAllBytes(weights + ".ckpt");
        foreach (var (name, (kind, change)) in table.Where(t => t.Value.Item1 != Kind.Job))
        {
            (code, text) = CliRun.Run([.. job, "--resume", .. change]);
            if (kind == Kind.Recorded)
            {
                Assert.True(code != 0, $"{name}: a resume with {string.Join(' ', change)} was not refused: {text}");
                Assert.False(CliRun.HasStackTrace(text), text);
                Assert.Equal(checkpoint, File.ReadAllBytes(weights + ".ckpt"));
            }
            else
            {
                Assert.True(code == 0, $"{name}: a resume with {string.Join(' ', change)} was refused: {text}");
            }
            Assert.Equal(trained, File.ReadAllBytes(weights));
        }
    }
}
