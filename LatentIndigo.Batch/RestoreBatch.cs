using System.Diagnostics;
using System.Security.Cryptography;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentIndigo.Batch;

/// <summary>
/// A resumable job restoring a collection into one output folder. A journal in that folder
/// (<see cref="JournalFileName"/>, SQLite) records the settings and, per image, its state, output hash, timings and
/// scores or failure. Outputs are written atomically and marked done only after they are in place, so after a crash,
/// kill or cancellation <see cref="Resume"/> continues with the images not done, and no partial output is ever left.
/// A failing image is recorded with its message and the job goes on.
/// </summary>
/// <remarks>One process at a time runs a job: the folder is locked while the batch is open.</remarks>
public sealed class RestoreBatch : IDisposable
{
    /// <summary>The journal's file name in the output folder.</summary>
    public const string JournalFileName = "latent-indigo-batch.db";

    private const string LockFileName = ".latent-indigo-batch.lock";
    private readonly BatchJournal journal;
    private readonly FileStream folderLock;
    private readonly RestoreOptions options;
    private readonly ILogger logger;
    private bool disposed;

    private RestoreBatch(string outputFolder, BatchJournal journal, FileStream folderLock, RestoreOptions options, ILogger logger)
    {
        OutputFolder = outputFolder;
        this.journal = journal;
        this.folderLock = folderLock;
        this.options = options;
        this.logger = logger;
    }

    /// <summary>The output folder (full path).</summary>
    public string OutputFolder { get; }

    /// <summary>Notes from opening the job (e.g. "3 images were running when the job stopped; restoring them again").</summary>
    public IReadOnlyList<string> Notes { get; private init; } = [];

    /// <summary>Whether <paramref name="outputFolder"/> holds a batch journal.</summary>
    public static bool Exists(string outputFolder) => File.Exists(Path.Combine(outputFolder, JournalFileName));

    /// <summary>Starts a new job: creates the output folder if needed and the journal with every image pending.</summary>
    /// <exception cref="BatchJournalException">A journal exists there already (resume it, or pick another folder), or the folder is in use or unwritable.</exception>
    /// <exception cref="BatchInputException">Two inputs map to one output, an output would replace an input, or outputs exist and <see cref="RestoreBatchOptions.Overwrite"/> is off.</exception>
    /// <exception cref="InvalidRestoreOptionsException">An option is out of range.</exception>
    public static RestoreBatch Create(IReadOnlyList<BatchImage> images, string outputFolder, RestoreOptions options, RestoreBatchOptions? batchOptions = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(outputFolder);
        ArgumentNullException.ThrowIfNull(options);
        batchOptions ??= new RestoreBatchOptions();
        options.Validate();
        if (images.Count == 0)
        {
            throw new BatchInputException("The batch has no image.");
        }
        BatchInputs.CheckUniqueOutputs(images);
        string folder = Path.GetFullPath(outputFolder);
        var planned = images.Select(i => (Input: Path.GetFullPath(i.InputPath), Truth: i.GroundTruthPath is null ? null : Path.GetFullPath(i.GroundTruthPath),
            Output: Path.Combine(folder, i.OutputName))).ToList();
        var inputs = new HashSet<string>(planned.SelectMany(p => p.Truth is null ? [p.Input] : new[] { p.Input, p.Truth }), StringComparer.Ordinal);
        var overwritesInput = planned.FirstOrDefault(p => inputs.Contains(p.Output));
        if (overwritesInput.Output is not null)
        {
            throw new BatchInputException($"The output '{overwritesInput.Output}' would replace an input: choose an output folder that holds no input.");
        }
        if (Exists(folder))
        {
            throw JobExists(folder);
        }
        var existing = planned.Where(p => File.Exists(p.Output)).Select(p => p.Output).ToList();
        if (existing.Count > 0 && !batchOptions.Overwrite)
        {
            throw new BatchInputException(
                $"{existing.Count} output(s) exist already, e.g. '{existing[0]}': choose an empty output folder, or allow overwriting (CLI: --force).");
        }
        CreateFolder(folder);
        var folderLock = Lock(folder);
        BatchJournal? journal = null;
        try
        {
            if (Exists(folder))
            {
                throw JobExists(folder);
            }
            journal = BatchJournal.Open(Path.Combine(folder, JournalFileName));
            journal.CreateJob(BatchSettings.ToText(BatchSettings.Describe(options, batchOptions.Models)),
                planned.Select(p => (p.Input, p.Truth, Path.GetFileName(p.Output))));
            return new RestoreBatch(folder, journal, folderLock, options, batchOptions.Logger ?? NullLogger.Instance);
        }
        catch
        {
            journal?.Dispose();
            folderLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reopens a job to continue it: images that were running go back to pending, done images whose output is missing
    /// or changed are redone, failed ones are retried (unless <see cref="RestoreBatchOptions.RetryFailed"/> is off),
    /// and leftover temporary files of interrupted writes are removed.
    /// </summary>
    /// <param name="images">The images, as given when the job was created (the list must be the same).</param>
    /// <param name="outputFolder">The job's output folder.</param>
    /// <param name="options">The restoration settings, as given when the job was created.</param>
    /// <param name="batchOptions">Batch options; <see cref="RestoreBatchOptions.Models"/> must match too.</param>
    /// <exception cref="BatchJournalException">There is no journal there, or another process runs the job.</exception>
    /// <exception cref="BatchSettingsMismatchException">Settings, models or the image list differ from the job's.</exception>
    public static RestoreBatch Resume(IReadOnlyList<BatchImage> images, string outputFolder, RestoreOptions options, RestoreBatchOptions? batchOptions = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(outputFolder);
        ArgumentNullException.ThrowIfNull(options);
        batchOptions ??= new RestoreBatchOptions();
        options.Validate();
        string folder = Path.GetFullPath(outputFolder);
        if (!Exists(folder))
        {
            throw new BatchJournalException($"There is no batch job to resume in '{folder}' (no {JournalFileName}): start it without --resume.");
        }
        var folderLock = Lock(folder);
        var journal = BatchJournal.Open(Path.Combine(folder, JournalFileName));
        try
        {
            var rows = journal.Images();
            var differences = BatchSettings.Differences(
                BatchSettings.FromText(journal.GetJob("settings") ?? ""), BatchSettings.Describe(options, batchOptions.Models));
            var then = rows.Select(r => r.Record.InputPath).ToList();
            var now = images.Select(i => Path.GetFullPath(i.InputPath)).ToList();
            if (!then.SequenceEqual(now, StringComparer.Ordinal))
            {
                string? first = then.Except(now).Concat(now.Except(then)).FirstOrDefault();
                differences.Add($"images: {then.Count} then, {now.Count} now" + (first is null ? " (another order)" : $" ('{first}' is in one list only)"));
            }
            if (differences.Count > 0)
            {
                throw new BatchSettingsMismatchException(folder, differences);
            }
            var notes = Repair(folder, journal, rows, batchOptions.RetryFailed);
            return new RestoreBatch(folder, journal, folderLock, options, batchOptions.Logger ?? NullLogger.Instance) { Notes = notes };
        }
        catch
        {
            journal.Dispose();
            folderLock.Dispose();
            throw;
        }
    }

    /// <summary>The journal's record of every image, in job order.</summary>
    public IReadOnlyList<BatchImageRecord> Images()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return journal.Images().Select(r => r.Record).ToList();
    }

    /// <summary>
    /// Restores every pending image, <see cref="IBatchRestorer.Concurrency"/> at a time. A failing image is recorded and
    /// the job goes on; cancellation returns the running images to pending (nothing partial is written) and throws.
    /// </summary>
    /// <returns>The report: every image's record and this run's throughput.</returns>
    /// <exception cref="OperationCanceledException">Cancelled; resume the job to continue.</exception>
    public async Task<BatchReport> RunAsync(IBatchRestorer restorer, IProgress<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(restorer);
        ObjectDisposedException.ThrowIf(disposed, this);
        var rows = journal.Images();
        var queue = new Queue<(long Id, BatchImageRecord Record)>(rows.Where(r => r.Record.State == BatchImageState.Pending));
        var tracker = new BatchProgressTracker(rows.Count, rows.Count(r => r.Record.State == BatchImageState.Done),
            Math.Max(1, restorer.Concurrency), queue.Count, progress);
        int alreadyDone = rows.Count(r => r.Record.State == BatchImageState.Done);
        var clock = Stopwatch.StartNew();
        async Task Worker()
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                (long Id, BatchImageRecord Record) next;
                lock (queue)
                {
                    if (!queue.TryDequeue(out next))
                    {
                        return;
                    }
                }
                await RestoreOne(restorer, next.Id, next.Record, tracker, cancellationToken).ConfigureAwait(false);
            }
        }
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(restorer.Concurrency, queue.Count))).Select(_ => Task.Run(Worker)).ToList();
        try
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Every worker has stopped by now (WhenAll waits for all); the running images were set back to pending.
        }
        cancellationToken.ThrowIfCancellationRequested();
        return new BatchReport(Images(), tracker.Restored, tracker.Failed, alreadyDone, clock.Elapsed, Math.Max(1, restorer.Concurrency));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        journal.Dispose();
        folderLock.Dispose();
        try
        {
            File.Delete(Path.Combine(OutputFolder, LockFileName));
        }
        catch (IOException)
        {
            // Another process may hold it already; it is an empty marker.
        }
    }

    private async Task RestoreOne(IBatchRestorer restorer, long id, BatchImageRecord image, BatchProgressTracker tracker, CancellationToken cancellationToken)
    {
        string output = Path.Combine(OutputFolder, image.OutputPath);
        journal.MarkRunning(id);
        var clock = Stopwatch.StartNew();
        var imageProgress = tracker.Start(id, image.InputPath);
        try
        {
            RestorationPipeline.CheckInputFile(image.InputPath, options);
            byte[] input = ImageFileReader.ReadAllBytes(image.InputPath, ImageLoadOptions.Default);
            byte[]? truth = image.GroundTruthPath is null ? null : ImageFileReader.ReadAllBytes(image.GroundTruthPath, ImageLoadOptions.Default);
            var outcome = await BatchImageProcessor.RestoreAsync(restorer, input, image.InputPath, options, truth, imageProgress, cancellationToken)
                .ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            ImageIO.WriteAtomically(output, outcome.Png);
            journal.MarkDone(id, outcome, clock.Elapsed);
            tracker.Finish(id, clock.Elapsed, failed: false);
            logger.LogInformation("Restored {Input} → {Output} in {Seconds:F1} s", image.InputPath, output, clock.Elapsed.TotalSeconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            journal.MarkPending(id);
            tracker.Cancel(id);
            throw;
        }
        catch (Exception ex) when (ex is not (BatchJournalException or OutOfMemoryException))
        {
            string message = ex is LatentIndigoException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            journal.MarkFailed(id, message, clock.Elapsed);
            tracker.Finish(id, clock.Elapsed, failed: true);
            logger.LogWarning("Failed to restore {Input}: {Message}", image.InputPath, message);
        }
    }

    private static List<string> Repair(string folder, BatchJournal journal, List<(long Id, BatchImageRecord Record)> rows, bool retryFailed)
    {
        var notes = new List<string>();
        int interrupted = 0, redo = 0, retried = 0;
        foreach (var (id, record) in rows)
        {
            string output = Path.Combine(folder, record.OutputPath);
            foreach (var temp in Directory.EnumerateFiles(folder, $".{record.OutputPath}.*.tmp"))
            {
                File.Delete(temp); // an atomic write that was interrupted: never a finished output
            }
            switch (record.State)
            {
                case BatchImageState.Running:
                    journal.MarkPending(id, "was running when the job stopped");
                    interrupted++;
                    break;
                case BatchImageState.Done when !File.Exists(output) || Sha256(output) != record.OutputSha256:
                    journal.MarkPending(id, "the output was missing or changed since it was written");
                    redo++;
                    break;
                case BatchImageState.Failed when retryFailed:
                    journal.MarkPending(id, record.Error);
                    retried++;
                    break;
            }
        }
        if (interrupted > 0)
        {
            notes.Add($"{interrupted} image(s) were being restored when the job stopped: restoring them again.");
        }
        if (redo > 0)
        {
            notes.Add($"{redo} finished output(s) were missing or changed since: restoring them again.");
        }
        if (retried > 0)
        {
            notes.Add($"{retried} failed image(s): trying them again.");
        }
        return notes;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static BatchJournalException JobExists(string folder) =>
        new($"'{folder}' holds a batch job already ({JournalFileName}): resume it (CLI: --resume), or choose another output folder.");

    private static void CreateFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BatchJournalException($"The output folder '{folder}' cannot be created: {ex.Message}", ex);
        }
    }

    /// <summary>An exclusive lock on a marker file: a second process on the same job is refused (the OS drops it when a process dies).</summary>
    private static FileStream Lock(string folder)
    {
        string path = Path.Combine(folder, LockFileName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new BatchJournalException($"Another process is running the batch job in '{folder}' (its lock '{path}' is held). Wait for it, or stop it first.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new BatchJournalException($"The output folder '{folder}' is not writable: {ex.Message}", ex);
        }
    }
}
