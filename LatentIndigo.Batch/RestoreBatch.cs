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
        CheckOutputFolderHoldsNoInput(folder, inputs);
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
        CheckOutputFolderHoldsNoInput(folder, images.SelectMany(i => i.GroundTruthPath is null ? [i.InputPath] : new[] { i.InputPath, i.GroundTruthPath })
            .Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal));
        var folderLock = Lock(folder);
        string journalPath = Path.Combine(folder, JournalFileName);
        long journalBytes = new FileInfo(journalPath).Length;
        BatchJournal journal;
        try
        {
            journal = BatchJournal.Open(journalPath);
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
        try
        {
            CheckSchema(journal, journalPath, journalBytes);
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
    /// <exception cref="BatchStoppedException">No space is left on the output's device: the job stopped (the images not done stay pending); resume it once there is space.</exception>
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
        // A failure that every later image would meet too (a full disk) stops the job: the running images go back to pending.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? stoppedBy = null;
        void Stop(Exception ex)
        {
            Interlocked.CompareExchange(ref stoppedBy, ex, null);
            stopping.Cancel();
        }
        var token = stopping.Token;
        async Task Worker()
        {
            while (!token.IsCancellationRequested)
            {
                (long Id, BatchImageRecord Record) next;
                lock (queue)
                {
                    if (!queue.TryDequeue(out next))
                    {
                        return;
                    }
                }
                await RestoreOne(restorer, next.Id, next.Record, tracker, Stop, token).ConfigureAwait(false);
            }
        }
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(restorer.Concurrency, queue.Count))).Select(_ => Task.Run(Worker)).ToList();
        try
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Every worker has stopped by now (WhenAll waits for all); the running images were set back to pending.
        }
        if (stoppedBy is not null)
        {
            throw new BatchStoppedException(
                $"The batch stopped: {IoFailure.Describe(Innermost(stoppedBy))}. Free some space (or choose an output folder on another disk), then run the same command with --resume: the images not done are restored, nothing done is lost.",
                stoppedBy);
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

    /// <summary>Writes an output atomically; tests replace it to inject failures (a full disk).</summary>
    internal Action<string, byte[]> WriteOutput { get; set; } = ImageIO.WriteAtomically;

    /// <summary>Whether an exception (or one it wraps) says the disk or the user's quota is full.</summary>
    internal static bool IsDiskFull(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (IoFailure.IsNoSpace(ex) || ex is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 13 })
            {
                return true;
            }
        }
        return false;
    }

    private async Task RestoreOne(IBatchRestorer restorer, long id, BatchImageRecord image, BatchProgressTracker tracker, Action<Exception> stop,
        CancellationToken cancellationToken)
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
            WriteOutput(output, outcome.Png);
            journal.MarkDone(id, outcome, clock.Elapsed, FileIdentity.Of(input), truth is null ? null : FileIdentity.Of(truth));
            tracker.Finish(id, clock.Elapsed, failed: false);
            logger.LogInformation("Restored {Input} → {Output} in {Seconds:F1} s", image.InputPath, output, clock.Elapsed.TotalSeconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            journal.MarkPending(id);
            tracker.Cancel(id);
            throw;
        }
        catch (Exception ex) when (IsDiskFull(ex))
        {
            // Every later image would fail the same way: the image goes back to pending and the job stops.
            try
            {
                journal.MarkPending(id, "no space left on the device when its output was written");
            }
            catch (BatchJournalException)
            {
                // The journal cannot be written either: the image stays 'Running', which a resume restores again.
            }
            tracker.Cancel(id);
            stop(ex);
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
        var changedInputs = new List<string>();
        foreach (var (id, record) in rows)
        {
            string output = Path.Combine(folder, record.OutputPath);
            AtomicFile.DeleteLeftovers(output); // an atomic write that was interrupted: never a finished output
            if (record.State == BatchImageState.Done && InputChanged(journal, id, record) is string change)
            {
                // The promise is a fresh run's bytes: a fresh run would restore the input as it is now.
                journal.MarkPending(id, change);
                changedInputs.Add($"'{Path.GetFileName(record.InputPath)}' ({change})");
                continue;
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
        if (changedInputs.Count > 0)
        {
            notes.Add($"{changedInputs.Count} input(s) changed since they were restored: restoring them again: {string.Join(", ", changedInputs.Take(5))}" +
                (changedInputs.Count > 5 ? ", ..." : "") + ".");
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

    /// <summary>How the input (or ground truth) of a done image differs from the bytes it was restored from, or null.</summary>
    private static string? InputChanged(BatchJournal journal, long id, BatchImageRecord record)
    {
        var (input, truth) = journal.RecordedInputs(id);
        var inputNow = FileIdentity.OfFile(record.InputPath);
        if (input is null || inputNow != input)
        {
            return $"the input is {(inputNow is null ? "missing or unreadable" : inputNow.ToString())} now, {input?.ToString() ?? "unknown"} when restored";
        }
        if (record.GroundTruthPath is not null)
        {
            var truthNow = FileIdentity.OfFile(record.GroundTruthPath);
            if (truth is null || truthNow != truth)
            {
                return $"the ground truth is {(truthNow is null ? "missing or unreadable" : truthNow.ToString())} now, {truth?.ToString() ?? "unknown"} when scored";
            }
        }
        return null;
    }

    /// <summary>
    /// Refuses an output folder that holds an input or a ground truth: its outputs (a.png beside a.jpg) would join the
    /// input set of the next run and every resume after would be refused.
    /// </summary>
    private static void CheckOutputFolderHoldsNoInput(string folder, IReadOnlySet<string> inputs)
    {
        string withSeparator = Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar;
        var inside = inputs.Where(i => i.StartsWith(withSeparator, StringComparison.Ordinal)).ToList();
        if (inside.Count > 0)
        {
            throw new BatchInputException(
                $"The output folder '{folder}' holds {inside.Count} of the inputs (e.g. '{inside[0]}'): the outputs would mix with the inputs. Choose an output folder outside the input folder, e.g. '{Path.TrimEndingDirectorySeparator(folder)}-restored'.");
        }
    }

    /// <summary>Refuses a journal that holds no job (0 bytes, or killed while created) or was written by an older version.</summary>
    private static void CheckSchema(BatchJournal journal, string path, long bytes)
    {
        string? schema = journal.GetJob("schema");
        if (schema is null)
        {
            throw new BatchJournalException(
                $"The batch journal '{path}' holds no job ({bytes:N0} bytes): the job was stopped while it was being created, or the file was emptied. Nothing was restored from it: delete it and start the job again without --resume.");
        }
        if (schema != BatchJournal.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new BatchJournalException(
                $"The batch journal '{path}' was written by another version of LatentIndigo (journal schema {schema}, this version reads {BatchJournal.SchemaVersion}), which did not record the inputs' content. Finish it with that version, or start the job again in a new output folder.");
        }
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is { } inner && !IoFailure.IsNoSpace(ex))
        {
            ex = inner;
        }
        return ex;
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
            throw new BatchJournalException($"The output folder '{folder}' cannot be created: {IoFailure.Explain(ex, reading: false)}", ex);
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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && IoFailure.Classify(ex) != IoCause.Other)
        {
            // A cause the OS named (read-only file system, no space, permission, ...): not another process.
            throw new BatchJournalException($"The output folder '{folder}' cannot be written: {IoFailure.Explain(ex, reading: false)}", ex);
        }
        catch (IOException ex)
        {
            throw new BatchJournalException($"Another process is running the batch job in '{folder}' (its lock '{path}' is held). Wait for it, or stop it first.", ex);
        }
    }
}
