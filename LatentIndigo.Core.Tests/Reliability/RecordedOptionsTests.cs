using System.Reflection;
using LatentIndigo.Batch;
using LatentIndigo.Degradations;
using LatentIndigo.Diffusion;
using LatentIndigo.Guidance;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.Tests.Invertible;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Reliability;

/// <summary>
/// Issue 26: every option that can change an output's bytes is recorded in the batch journal or the training checkpoint,
/// so that a resume with another value is refused. The options are enumerated by reflection: a new public property of
/// <see cref="RestoreOptions"/>, <see cref="RestoreBatchOptions"/> or <see cref="InnTrainingOptions"/> fails these
/// tests until it is classified in the recording code's own lists (<c>BatchSettings.Recorded/NotRecorded</c>,
/// <c>InnRunSettings.Recorded/NotRecorded</c>), which are what the recording code reads. A property classified as
/// recorded must also change the recorded text when its value changes (so a list entry the code ignores fails too).
/// </summary>
[Collection(TorchCpuSettingsCollection.Name)]
public class RecordedOptionsTests
{
    private static IEnumerable<PropertyInfo> PublicProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0);

    private static void AssertClassified(Type type, IReadOnlySet<string> recorded, IReadOnlyDictionary<string, string> notRecorded, string lists)
    {
        var names = PublicProperties(type).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var unclassified = names.Where(n => !recorded.Contains(n) && !notRecorded.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unclassified.Count == 0,
            $"{type.Name} has properties that are neither recorded nor listed as not changing the output: {string.Join(", ", unclassified)}. " +
            $"Add each to {lists} (and to docs/reliability.md).");
        Assert.Empty(recorded.Intersect(notRecorded.Keys));
        var stale = recorded.Concat(notRecorded.Keys).Where(n => !names.Contains(n)).ToList();
        Assert.True(stale.Count == 0, $"listed but not a property of {type.Name}: {string.Join(", ", stale)}");
        Assert.All(notRecorded, p => Assert.False(string.IsNullOrWhiteSpace(p.Value), $"{p.Key} needs a reason"));
    }

    /// <summary>Another value of <paramref name="property"/>'s type than <paramref name="current"/>, or a failure naming the type.</summary>
    private static object? OtherValue(PropertyInfo property, object? current)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (current is null && property.PropertyType.IsValueType)
        {
            // a nullable left at null: any value
            return type == typeof(int) ? 16 : type == typeof(double) ? 0.25 : type == typeof(bool) ? true : type == typeof(long) ? 3L
                : throw new Xunit.Sdk.XunitException($"add an other value for {property.Name} ({type.Name}) to this test");
        }
        return current switch
        {
            int i => i + 8,
            long l => l + 1,
            ulong u => u + 1,
            double d => d * 0.5 + 0.0625,
            bool b => !b,
            string s => s + "x",
            Enum e => Enum.GetValues(type).Cast<object>().First(v => !v.Equals(e)),
            _ when type == typeof(IDegradationModel) => current is null ? DegradationSpec.Parse("bicubic:x4") : null,
            _ when type == typeof(IInitialEstimator) => current is null ? new DescribedEstimator() : null,
            _ when type == typeof(ILatentGuidanceFactory) => current is null ? PixelInnGuidance.Factory : null,
            _ when type == typeof(Func<SchedulerConfig, ILatentSampler>) => current is null ? new Func<SchedulerConfig, ILatentSampler>(_ => throw new NotSupportedException()) : null,
            _ => throw new Xunit.Sdk.XunitException($"add an other value for {property.Name} ({type.Name}) to this test"),
        };
    }

    private sealed class DescribedEstimator : IInitialEstimator
    {
        public Tensor Estimate(Tensor lowQuality, int scaleFactor, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override string ToString() => "described estimator v2";
    }

    [Fact]
    public void Every_RestoreOptions_property_is_recorded_in_the_batch_journal_or_listed_with_a_reason()
    {
        AssertClassified(typeof(RestoreOptions), BatchSettings.Recorded, BatchSettings.NotRecorded, "BatchSettings.Recorded or BatchSettings.NotRecorded");
        AssertClassified(typeof(RestoreBatchOptions), BatchSettings.BatchOptionsRecorded, BatchSettings.BatchOptionsNotRecorded,
            "BatchSettings.BatchOptionsRecorded or BatchSettings.BatchOptionsNotRecorded");

        var baseline = RestoreOptions.Default;
        var described = BatchSettings.Describe(baseline, "models");
        // What the journal records: exactly the recorded properties, plus the restorer (RestoreBatchOptions.Models) and the package version.
        Assert.Equal(BatchSettings.Recorded.Append("restorer").Append("package").Order(StringComparer.Ordinal), described.Keys);
        Assert.Equal(RecordedSettings.PackageVersion, described["package"]);
        Assert.NotEqual(described, BatchSettings.Describe(baseline, "other models"));

        foreach (var property in PublicProperties(typeof(RestoreOptions)).Where(p => p.CanWrite))
        {
            var changed = baseline with { };
            property.SetValue(changed, OtherValue(property, property.GetValue(baseline)));
            var differences = BatchSettings.Differences(described, BatchSettings.Describe(changed, "models"));
            if (BatchSettings.Recorded.Contains(property.Name))
            {
                Assert.True(differences.Any(d => d.StartsWith(property.Name + ":", StringComparison.Ordinal)),
                    $"{property.Name} is listed as recorded, but changing it does not change the journal's settings");
            }
            else
            {
                Assert.Empty(differences);
            }
        }
    }

    [Fact]
    public async Task The_RestoreOptions_listed_as_not_recorded_do_not_change_a_restored_images_bytes()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = LatentIndigo.Tests.Batch.BatchTestImages.Write(folder.File("in"), 1, width: 16, height: 12);
        using var pipeline = RestorationPipeline.Load(null);
        var options = RestoreOptions.Default with { Strategy = GuidanceStrategy.InnOnly, Steps = 10 };
        async Task<byte[]> Restore(RestoreOptions o, string output)
        {
            using (var batch = RestoreBatch.Create(BatchInputs.FromFolder(inputs), folder.File(output), o))
            {
                var report = await batch.RunAsync(new PipelineRestorer(pipeline));
                Assert.Equal(1, report.Done);
            }
            return File.ReadAllBytes(Path.Combine(folder.File(output), "img0.png"));
        }
        byte[] reference = await Restore(options, "a");
        // Each not-recorded option at another value: the same bytes.
        Assert.Equal(["ComputeQualityMetrics", "MaxOutputPixels"], BatchSettings.NotRecorded.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(reference, await Restore(options with { ComputeQualityMetrics = !options.ComputeQualityMetrics }, "b"));
        Assert.Equal(reference, await Restore(options with { MaxOutputPixels = options.MaxOutputPixels * 4 }, "c"));
    }

    /// <summary>Restores through a pipeline (INN-only here).</summary>
    private sealed class PipelineRestorer(RestorationPipeline pipeline) : IBatchRestorer
    {
        public int Concurrency => 1;

        public Task<RestoreResult> RestoreAsync(Tensor lowQuality, RestoreOptions options, IProgress<RestoreProgress>? progress = null,
            CancellationToken cancellationToken = default) => pipeline.RestoreAsync(lowQuality, options, progress, cancellationToken);
    }

    private static readonly LiftingInnOptions Tiny = new() { ResBlocks = 1, Width = 8 };

    private static InnImageSet Photos()
    {
        using var scope = NewDisposeScope();
        return InnImageSet.FromTensors(new[] { "chelsea.png", "coffee.png" }
            .Select(n => nn.functional.avg_pool2d(ImageIO.Load(TestData.Cc0(n)), 4)).ToList());
    }

    [Fact]
    public void Every_InnTrainingOptions_property_is_recorded_in_the_checkpoint_or_listed_with_a_reason()
    {
        AssertClassified(typeof(InnTrainingOptions), InnRunSettings.Recorded, InnRunSettings.NotRecorded, "InnRunSettings.Recorded or InnRunSettings.NotRecorded");
        using var photos = Photos();
        using var inn = new LiftingInn(Tiny);
        var degradation = new AreaDegradation(4);
        var baseline = new InnTrainingOptions { CheckpointPath = "x.ckpt" };
        SortedDictionary<string, string> Describe(InnTrainingOptions o) =>
            InnRunSettings.Describe(o, degradation, inn, 1, false, photos, null, new Dictionary<string, string>());
        var described = Describe(baseline);
        Assert.Equal(InnRunSettings.Recorded.Select(n => "options." + n).Order(StringComparer.Ordinal),
            described.Keys.Where(k => k.StartsWith("options.", StringComparison.Ordinal)));
        foreach (var key in new[] { "degradation", "network", "network.encoder", "training.images", "validation.images", "torch.threads", "package" })
        {
            Assert.Contains(key, described.Keys);
        }
        foreach (var property in PublicProperties(typeof(InnTrainingOptions)).Where(p => p.CanWrite))
        {
            var changed = baseline with { };
            property.SetValue(changed, OtherValue(property, property.GetValue(baseline)));
            var differences = RecordedSettings.Differences(described, Describe(changed));
            if (InnRunSettings.Recorded.Contains(property.Name))
            {
                Assert.True(differences.Any(d => d.StartsWith("options." + property.Name + ":", StringComparison.Ordinal)),
                    $"{property.Name} is listed as recorded, but changing it does not change the checkpoint's settings");
            }
            else
            {
                Assert.Empty(differences);
            }
        }
    }

    [Fact]
    public void The_InnTrainingOptions_listed_as_not_recorded_do_not_change_the_trained_bytes()
    {
        using var folder = TestData.NewTempFolder();
        using var photos = Photos();
        var degradation = new AreaDegradation(4);
        byte[] Train(InnTrainingOptions options)
        {
            random.manual_seed(7);
            using var inn = new LiftingInn(Tiny);
            new InnTrainer(inn, degradation, options).Train(photos, photos);
            using var stream = new MemoryStream();
            inn.Save(stream);
            return stream.ToArray();
        }
        var options = new InnTrainingOptions { Steps = 4, BatchSize = 2, CropSize = 16, CheckpointPath = folder.File("a.ckpt"), CheckpointEvery = 4, ValidateEvery = 4, ReportEvery = 1 };
        byte[] reference = Train(options);
        Assert.Equal(["CheckpointEvery", "CheckpointPath", "ReportEvery", "Resume", "ValidateEvery"], InnRunSettings.NotRecorded.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(reference, Train(options with { CheckpointEvery = 1, CheckpointPath = folder.File("b.ckpt") }));
        Assert.Equal(reference, Train(options with { ValidateEvery = 1, CheckpointPath = folder.File("c.ckpt") }));
        Assert.Equal(reference, Train(options with { ReportEvery = 3, CheckpointPath = folder.File("d.ckpt") }));
        // Resume without a checkpoint to resume from trains from the start like a fresh run.
        Assert.Equal(reference, Train(options with { Resume = true, CheckpointPath = folder.File("e.ckpt") }));
    }
}
