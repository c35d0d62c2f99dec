using System.Globalization;
using LatentIndigo.Evaluation;
using Microsoft.Data.Sqlite;

namespace LatentIndigo.Batch;

/// <summary>
/// The job journal: one SQLite file in the output folder with the job's settings and one row per image (state, output
/// hash, timings, scores, error). Every change is its own transaction, committed before the next image is handed
/// out, so a killed process loses at most the images that were running. Calls are serialised: one connection.
/// </summary>
internal sealed class BatchJournal : IDisposable
{
    public const int SchemaVersion = 2;
    private readonly SqliteConnection connection;
    private readonly object gate = new();

    private BatchJournal(SqliteConnection connection) => this.connection = connection;

    public static BatchJournal Open(string path)
    {
        // No pooling: the file is closed when the journal is disposed (a test or user may delete the folder then).
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            var journal = new BatchJournal(connection);
            journal.Execute("PRAGMA synchronous=FULL;");
            journal.Execute("""
                CREATE TABLE IF NOT EXISTS job (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS images (
                  id INTEGER PRIMARY KEY, input TEXT NOT NULL UNIQUE, ground_truth TEXT, output TEXT NOT NULL UNIQUE,
                  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, output_sha256 TEXT,
                  started_utc TEXT, finished_utc TEXT, seconds REAL, unet_seconds REAL, vae_seconds REAL, inn_seconds REAL,
                  coarse_psnr REAL, measurement_psnr REAL, psnr_y REAL, ssim_y REAL, lr_psnr REAL, width INTEGER, height INTEGER,
                  input_size INTEGER, input_sha256 TEXT, truth_size INTEGER, truth_sha256 TEXT, output_size INTEGER);
                """);
            return journal;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new BatchJournalException(
                $"The batch journal '{path}' cannot be opened ({ex.Message.TrimEnd('.')}). " + NextStep(ex,
                    "If it is damaged, move it away and start the job again (outputs that exist are kept only with --force)."), ex);
        }
    }

    /// <summary>The next step for a failed journal operation: a full disk and a read-only folder are not damage.</summary>
    internal static string NextStep(SqliteException ex, string otherwise) => ex.SqliteErrorCode switch
    {
        13 => "The disk is full (SQLITE_FULL): free some space, then run the same command with --resume.", // SQLITE_FULL
        8 => "The journal or its folder is read-only (SQLITE_READONLY): give your user write access, then resume.", // SQLITE_READONLY
        _ => otherwise,
    };

    public string? GetJob(string key)
    {
        lock (gate)
        {
            using var command = Command("SELECT value FROM job WHERE key=$k", ("$k", key));
            return command.ExecuteScalar() as string;
        }
    }

    /// <summary>Creates the job: settings and images in one transaction (a crash leaves no half-created job).</summary>
    public void CreateJob(string settings, IEnumerable<(string Input, string? GroundTruth, string Output)> images)
    {
        lock (gate)
        {
            using var transaction = connection.BeginTransaction();
            using (var command = Command("INSERT INTO job(key, value) VALUES ('schema', $s), ('settings', $v), ('created_utc', $c)",
                       ("$s", SchemaVersion.ToString(CultureInfo.InvariantCulture)), ("$v", settings), ("$c", Now())))
            {
                command.Transaction = transaction;
                command.ExecuteNonQuery();
            }
            foreach (var (input, truth, output) in images)
            {
                using var insert = Command("INSERT INTO images(input, ground_truth, output, state) VALUES ($i, $g, $o, 'Pending')",
                    ("$i", input), ("$g", truth), ("$o", output));
                insert.Transaction = transaction;
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    public List<(long Id, BatchImageRecord Record)> Images()
    {
        lock (gate)
        {
            using var command = Command("SELECT * FROM images ORDER BY id");
            using var reader = command.ExecuteReader();
            var rows = new List<(long, BatchImageRecord)>();
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(reader.GetOrdinal("id")), Read(reader)));
            }
            return rows;
        }
    }

    public void MarkRunning(long id) =>
        Update("UPDATE images SET state='Running', attempts=attempts+1, error=NULL, started_utc=$t, finished_utc=NULL WHERE id=$id", id, ("$t", Now()));

    public void MarkPending(long id, string? note = null) =>
        Update("UPDATE images SET state='Pending', error=$e, output_sha256=NULL WHERE id=$id", id, ("$e", note));

    public void MarkFailed(long id, string error, TimeSpan time) =>
        Update("UPDATE images SET state='Failed', error=$e, finished_utc=$t, seconds=$s WHERE id=$id", id,
            ("$e", error), ("$t", Now()), ("$s", time.TotalSeconds));

    /// <summary>Marks an image done, with the identity of the input (and ground truth) bytes it was restored from.</summary>
    public void MarkDone(long id, BatchImageOutcome outcome, TimeSpan time, FileIdentity input, FileIdentity? truth) =>
        Update("""
            UPDATE images SET state='Done', error=NULL, output_sha256=$h, output_size=$os, input_size=$is, input_sha256=$ih,
              truth_size=$ts, truth_sha256=$th, finished_utc=$t, seconds=$s, unet_seconds=$u, vae_seconds=$v,
              inn_seconds=$n, coarse_psnr=$c, measurement_psnr=$m, psnr_y=$py, ssim_y=$sy, lr_psnr=$lr, width=$w, height=$hh WHERE id=$id
            """, id,
            ("$h", outcome.Sha256), ("$os", outcome.Png.LongLength), ("$is", input.Size), ("$ih", input.Sha256),
            ("$ts", truth?.Size), ("$th", truth?.Sha256), ("$t", Now()), ("$s", time.TotalSeconds), ("$u", outcome.UnetTime.TotalSeconds),
            ("$v", outcome.VaeTime.TotalSeconds), ("$n", outcome.InnTime.TotalSeconds), ("$c", outcome.CoarsePsnr),
            ("$m", outcome.MeasurementPsnr), ("$py", outcome.Scores?.PsnrY), ("$sy", outcome.Scores?.SsimY), ("$lr", outcome.Scores?.LrPsnr),
            ("$w", outcome.Width), ("$hh", outcome.Height));

    public void Dispose() => connection.Dispose();

    /// <summary>The input (and ground truth) identity a done image was restored from; null where not recorded.</summary>
    public (FileIdentity? Input, FileIdentity? Truth) RecordedInputs(long id)
    {
        lock (gate)
        {
            using var command = Command("SELECT input_size, input_sha256, truth_size, truth_sha256 FROM images WHERE id=$id", ("$id", id));
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return (null, null);
            }
            FileIdentity? At(int size, int hash) =>
                reader.IsDBNull(size) || reader.IsDBNull(hash) ? null : new FileIdentity(reader.GetInt64(size), reader.GetString(hash));
            return (At(0, 1), At(2, 3));
        }
    }

    private void Update(string sql, long id, params (string Name, object? Value)[] parameters)
    {
        lock (gate)
        {
            using var command = Command(sql, [.. parameters, ("$id", id)]);
            int changed;
            try
            {
                changed = command.ExecuteNonQuery();
            }
            catch (SqliteException ex)
            {
                throw new BatchJournalException(
                    $"The batch journal could not be updated ({ex.Message.TrimEnd('.')}). " + NextStep(ex, "Check the output folder's disk, then resume the job."), ex);
            }
            if (changed != 1)
            {
                throw new BatchJournalException($"The batch journal has no image {id}: it was changed by something else while the job ran.");
            }
        }
    }

    private void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }

    private static string Now() => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    private static BatchImageRecord Read(SqliteDataReader r)
    {
        string? Text(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : r.GetString(r.GetOrdinal(column));
        double? Real(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : r.GetDouble(r.GetOrdinal(column));
        TimeSpan? Seconds(string column) => Real(column) is double s ? TimeSpan.FromSeconds(s) : null;
        DateTime? Time(string column) => Text(column) is string t ? DateTime.Parse(t, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind) : null;
        double? psnr = Real("psnr_y"), ssim = Real("ssim_y");
        return new BatchImageRecord
        {
            InputPath = Text("input")!,
            GroundTruthPath = Text("ground_truth"),
            OutputPath = Text("output")!,
            State = Enum.Parse<BatchImageState>(Text("state")!),
            Attempts = r.GetInt32(r.GetOrdinal("attempts")),
            Error = Text("error"),
            OutputSha256 = Text("output_sha256"),
            StartedUtc = Time("started_utc"),
            FinishedUtc = Time("finished_utc"),
            Time = Seconds("seconds"),
            UnetTime = Seconds("unet_seconds"),
            VaeTime = Seconds("vae_seconds"),
            InnTime = Seconds("inn_seconds"),
            CoarsePsnr = Real("coarse_psnr"),
            MeasurementPsnr = Real("measurement_psnr"),
            Scores = psnr is double p && ssim is double s ? new EvaluationScores(p, s, Real("lr_psnr"), null) : null,
            Width = Real("width") is double w ? (int)w : null,
            Height = Real("height") is double h ? (int)h : null,
        };
    }
}
