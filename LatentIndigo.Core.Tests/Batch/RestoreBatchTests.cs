using System.Security.Cryptography;
using LatentIndigo.Batch;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Tests.Pipeline;
using Xunit;

namespace LatentIndigo.Tests.Batch;

/// <summary>The job journal's guarantees, with a model-free restorer so each case runs in well under a second.</summary>
public class RestoreBatchTests
{
    private static readonly RestoreOptions Options = RestoreOptions.Default with { Strategy = GuidanceStrategy.InnOnly, Steps = 10 };

    private static string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    [Fact]
    public async Task Restores_every_image_and_journals_state_hash_and_timings()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 3));
        string output = folder.File("out");
        BatchReport report;
        using (var batch = RestoreBatch.Create(images, output, Options))
        {
            report = await batch.RunAsync(new NearestRestorer());
        }
        Assert.Equal((3, 3, 0), (report.Images.Count, report.RestoredThisRun, report.Failed));
        foreach (var image in report.Images)
        {
            Assert.Equal(BatchImageState.Done, image.State);
            Assert.Equal(1, image.Attempts);
            Assert.Equal(Sha(Path.Combine(output, image.OutputPath)), image.OutputSha256);
            Assert.NotNull(image.Time);
            Assert.True(image.FinishedUtc >= image.StartedUtc);
            Assert.Equal((ImageFileFormat.Png, 48, 40), ImageIO.Identify(Path.Combine(output, image.OutputPath)));
        }
        Assert.True(File.Exists(Path.Combine(output, RestoreBatch.JournalFileName)));
        Assert.Contains("| img2.png | Done |", report.ToMarkdown());
    }

    [Fact]
    public async Task A_failing_image_is_recorded_with_its_message_and_the_job_goes_on()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 3);
        File.WriteAllText(Path.Combine(inputs, "img1.png"), "not a png");
        using var batch = RestoreBatch.Create(BatchInputs.FromFolder(inputs), folder.File("out"), Options);
        var report = await batch.RunAsync(new NearestRestorer());
        Assert.Equal(2, report.Done);
        var failed = Assert.Single(report.Images, i => i.State == BatchImageState.Failed);
        Assert.EndsWith("img1.png", failed.InputPath);
        Assert.Contains("img1.png", failed.Error);
        Assert.False(File.Exists(folder.File("out/img1.png")));
        Assert.Contains("img1.png", report.ToMarkdown());
    }

    [Fact]
    public async Task Cancelled_job_leaves_no_partial_output_and_resume_restores_only_the_rest()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 4));
        string output = folder.File("out");
        using var cancel = new CancellationTokenSource();
        // The third restore cancels the job and then waits for the cancellation, as a real restore does at its next step.
        var first = new NearestRestorer(beforeRestore: async (call, token) =>
        {
            if (call == 3)
            {
                cancel.Cancel();
                await Task.Delay(Timeout.Infinite, token);
            }
        });
        string firstHash;
        using (var batch = RestoreBatch.Create(images, output, Options))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batch.RunAsync(first, null, cancel.Token));
            var states = batch.Images().Select(i => i.State).ToList();
            Assert.Equal([BatchImageState.Done, BatchImageState.Done, BatchImageState.Pending, BatchImageState.Pending], states);
            firstHash = batch.Images()[0].OutputSha256!;
        }
        Assert.Equal(["img0.png", "img1.png"], Directory.GetFiles(output, "*.png").Select(f => Path.GetFileName(f)!).Order().ToArray());
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));

        var second = new NearestRestorer();
        using (var batch = RestoreBatch.Resume(images, output, Options))
        {
            var report = await batch.RunAsync(second);
            Assert.Equal((2, 2, 4), (report.DoneBefore, report.RestoredThisRun, report.Done));
            Assert.Equal(firstHash, report.Images[0].OutputSha256);
            Assert.Equal(1, report.Images[0].Attempts);
        }
        Assert.Equal(2, second.Calls);
    }

    [Fact]
    public async Task Resume_with_other_settings_models_or_images_is_refused_and_names_the_difference()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 2));
        string output = folder.File("out");
        var batchOptions = new RestoreBatchOptions { Models = "model=a" };
        using (var batch = RestoreBatch.Create(images, output, Options, batchOptions))
        {
            await batch.RunAsync(new NearestRestorer(beforeRestore: (call, _) => call == 2 ? throw new InvalidOperationException("boom") : Task.CompletedTask));
        }
        var steps = Assert.Throws<BatchSettingsMismatchException>(() => RestoreBatch.Resume(images, output, Options with { Steps = 30 }, batchOptions));
        Assert.Contains("Steps: 10 then, 30 now", steps.Message);
        Assert.Contains("another output folder", steps.Message);
        var models = Assert.Throws<BatchSettingsMismatchException>(() => RestoreBatch.Resume(images, output, Options, batchOptions with { Models = "model=b" }));
        Assert.Contains("restorer: model=a then, model=b now", models.Message);
        var fewer = Assert.Throws<BatchSettingsMismatchException>(() => RestoreBatch.Resume(images.Take(1).ToList(), output, Options, batchOptions));
        Assert.Contains("images: 2 then, 1 now", fewer.Message);
        // A limit that does not change outputs may change.
        using var same = RestoreBatch.Resume(images, output, Options with { MaxOutputPixels = 1_000_000 }, batchOptions);
        Assert.Contains(same.Notes, n => n.Contains("failed image", StringComparison.Ordinal));
    }

    [Fact]
    public void Refuses_a_second_job_in_a_folder_a_missing_journal_and_a_job_open_twice()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 1));
        string output = folder.File("out");
        Assert.Contains("start it without --resume", Assert.Throws<BatchJournalException>(() => RestoreBatch.Resume(images, output, Options)).Message);
        using (RestoreBatch.Create(images, output, Options))
        {
            var twice = Assert.Throws<BatchJournalException>(() => RestoreBatch.Resume(images, output, Options));
            Assert.Contains("Another process is running", twice.Message);
        }
        var again = Assert.Throws<BatchJournalException>(() => RestoreBatch.Create(images, output, Options));
        Assert.Contains("--resume", again.Message);
    }

    [Fact]
    public void Never_overwrites_an_input_or_an_existing_output_unless_allowed()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 2);
        var images = BatchInputs.FromFolder(inputs);
        var intoInputs = Assert.Throws<BatchInputException>(() => RestoreBatch.Create(images, inputs, Options with { }, new RestoreBatchOptions { Overwrite = true }));
        Assert.Contains("would replace an input", intoInputs.Message);

        string output = Directory.CreateDirectory(folder.File("out")).FullName;
        File.WriteAllText(Path.Combine(output, "img1.png"), "someone else's");
        Assert.Contains("--force", Assert.Throws<BatchInputException>(() => RestoreBatch.Create(images, output, Options)).Message);
        Assert.Equal("someone else's", File.ReadAllText(Path.Combine(output, "img1.png")));
        using var allowed = RestoreBatch.Create(images, output, Options, new RestoreBatchOptions { Overwrite = true });
    }

    [Fact]
    public async Task Resume_redoes_a_done_image_whose_output_was_changed_and_retries_failures_only_when_asked()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 3));
        string output = folder.File("out");
        using (var batch = RestoreBatch.Create(images, output, Options))
        {
            await batch.RunAsync(new NearestRestorer(beforeRestore: (call, _) => call == 3 ? throw new InvalidOperationException("boom") : Task.CompletedTask));
        }
        File.WriteAllText(Path.Combine(output, "img0.png"), "damaged");
        File.WriteAllText(Path.Combine(output, ".img1.png.0123456789abcdef0123456789abcdef.tmp"), "an interrupted write");

        var restorer = new NearestRestorer();
        using (var batch = RestoreBatch.Resume(images, output, Options, new RestoreBatchOptions { RetryFailed = false }))
        {
            Assert.Contains(batch.Notes, n => n.Contains("missing or changed", StringComparison.Ordinal));
            var report = await batch.RunAsync(restorer);
            Assert.Equal(1, restorer.Calls); // img0 only: img2 stays failed
            Assert.Equal([BatchImageState.Done, BatchImageState.Done, BatchImageState.Failed], report.Images.Select(i => i.State));
            Assert.Equal(Sha(Path.Combine(output, "img0.png")), report.Images[0].OutputSha256);
            Assert.Equal("InvalidOperationException: boom", report.Images[2].Error);
        }
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
        using (var batch = RestoreBatch.Resume(images, output, Options))
        {
            var report = await batch.RunAsync(restorer);
            Assert.Equal(3, report.Done);
            Assert.Equal(2, report.Images[2].Attempts);
        }
    }

    [Fact]
    public async Task Progress_counts_up_to_the_total_and_estimates_the_time_left_once_an_image_is_done()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 3));
        var events = new List<BatchProgress>();
        using var batch = RestoreBatch.Create(images, folder.File("out"), Options);
        await batch.RunAsync(new NearestRestorer(), new SyncProgress<BatchProgress>(e => { lock (events) { events.Add(e); } }));
        Assert.All(events, e => Assert.Equal(3, e.Total));
        Assert.Null(events[0].Remaining);
        Assert.Equal(3, events[^1].Done);
        Assert.Equal(events.Select(e => e.Done).Order(), events.Select(e => e.Done)); // never goes back (one worker)
        Assert.Contains(events, e => e.Done == 1 && e.Remaining is not null);
        Assert.Contains(events, e => e.Running.Count == 1 && e.Running[0].Fraction > 0);
    }

    [Fact]
    public void Manifest_lines_are_checked_with_their_line_numbers()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 2);
        string manifest = folder.File("list.txt");
        File.WriteAllText(manifest, "# the collection\nin/img0.png, in/img1.png\n\nin/img1.png,in/img0.png\n");
        var images = BatchInputs.FromManifest(manifest);
        Assert.Equal(Path.Combine(inputs, "img0.png"), images[0].InputPath);
        Assert.Equal(Path.Combine(inputs, "img1.png"), images[0].GroundTruthPath);

        File.WriteAllText(manifest, "in/img0.png\nin/missing.png\n");
        Assert.Contains("Line 2", Assert.Throws<BatchInputException>(() => BatchInputs.FromManifest(manifest)).Message);
        File.WriteAllText(manifest, "in/img0.png,a,b\n");
        Assert.Contains("Line 1", Assert.Throws<BatchInputException>(() => BatchInputs.FromManifest(manifest)).Message);
        File.WriteAllText(manifest, "in/img0.png\n" + Path.Combine(inputs, "img0.png") + "\n");
        Assert.Contains("would all be written to 'img0.png'", Assert.Throws<BatchInputException>(() => BatchInputs.FromManifest(manifest)).Message);
        File.WriteAllText(manifest, "# nothing\n");
        Assert.Contains("lists no image", Assert.Throws<BatchInputException>(() => BatchInputs.FromManifest(manifest)).Message);
        Assert.Contains("no ground truth", Assert.Throws<BatchInputException>(() => BatchInputs.FromFolder(inputs, Directory.CreateDirectory(folder.File("gt")).FullName)).Message);
    }
}
