using System.Globalization;
using System.Text;
using LatentIndigo.Imaging;

namespace LatentIndigo.Evaluation;

/// <summary>
/// The results of an evaluation as CSV (one row per image and strategy: <c>image,strategy,psnr_y,ssim_y,lr_psnr,perceptual,
/// seconds,peak_memory_mb</c>; empty cells for values not computed) and as a Markdown table with the mean per strategy.
/// </summary>
public static class EvaluationReport
{
    /// <summary>The CSV header line.</summary>
    public const string CsvHeader = "image,strategy,psnr_y,ssim_y,lr_psnr,perceptual,seconds,peak_memory_mb";

    /// <summary>The records as CSV text (invariant culture; infinite PSNR written as <c>inf</c>).</summary>
    public static string ToCsv(IEnumerable<EvaluationRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var text = new StringBuilder(CsvHeader).Append('\n');
        foreach (var r in records)
        {
            text.AppendJoin(',', Quote(r.Image), Quote(r.Strategy), Number(r.Scores.PsnrY, "F4"), Number(r.Scores.SsimY, "F6"),
                Number(r.Scores.LrPsnr, "F4"), Number(r.Scores.Perceptual, "F6"), Number(r.Time.TotalSeconds, "F3"),
                Number(r.PeakMemoryBytes / (1024.0 * 1024.0), "F1")).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Reads a CSV written by <see cref="ToCsv"/> (to resume an evaluation).</summary>
    /// <exception cref="EvaluationInputException">The file is not such a CSV.</exception>
    public static IReadOnlyList<EvaluationRecord> ReadCsv(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Records, not lines: a quoted cell may hold a newline (a file name can), as RFC 4180 allows.
        var rows = SplitCsv(File.ReadAllText(path));
        if (rows.Count == 0 || string.Join(",", rows[0].Cells) != CsvHeader)
        {
            throw new EvaluationInputException($"'{path}' is not a results file of this version (its header is not '{CsvHeader}'). Use another --out folder, or --force to start again.");
        }
        var records = new List<EvaluationRecord>();
        foreach (var (line, cells) in rows.Skip(1))
        {
            if (cells.Count == 1 && cells[0].Length == 0)
            {
                continue;
            }
            if (cells.Count != 8)
            {
                throw new EvaluationInputException($"'{path}' line {line} has {cells.Count} cells instead of 8. Use another --out folder, or --force to start again.");
            }
            try
            {
                records.Add(new EvaluationRecord(cells[0], cells[1],
                    new EvaluationScores(Parse(cells[2])!.Value, Parse(cells[3])!.Value, Parse(cells[4]), Parse(cells[5])),
                    TimeSpan.FromSeconds(Parse(cells[6]) ?? 0), (long)((Parse(cells[7]) ?? 0) * 1024 * 1024)));
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException)
            {
                throw new EvaluationInputException($"'{path}' line {line} holds a value that is not a number. Use another --out folder, or --force to start again.");
            }
        }
        return records;
    }

    /// <summary>
    /// A Markdown report: the mean of each score per strategy (in <paramref name="strategyOrder"/>), then every row.
    /// </summary>
    /// <param name="records">The rows.</param>
    /// <param name="strategyOrder">The strategies in the order to list them.</param>
    /// <param name="title">The heading.</param>
    /// <param name="notes">Lines under the heading (settings, caveats).</param>
    public static string ToMarkdown(IReadOnlyList<EvaluationRecord> records, IReadOnlyList<string> strategyOrder, string title, IEnumerable<string> notes)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(strategyOrder);
        ArgumentNullException.ThrowIfNull(notes);
        var md = new StringBuilder($"# {title}\n\n");
        foreach (var note in notes)
        {
            md.Append("- ").Append(note).Append('\n');
        }
        md.Append("\n## Mean per strategy\n\n| strategy | images | PSNR-Y (dB) | SSIM-Y | LR PSNR (dB) | perceptual | seconds | peak memory (MB) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var strategy in strategyOrder)
        {
            var rows = records.Where(r => r.Strategy == strategy).ToList();
            if (rows.Count == 0)
            {
                continue;
            }
            md.Append($"| {strategy} | {rows.Count} | {Mean(rows, r => r.Scores.PsnrY, "F2")} | {Mean(rows, r => r.Scores.SsimY, "F4")} | " +
                $"{Mean(rows, r => r.Scores.LrPsnr, "F2")} | {Mean(rows, r => r.Scores.Perceptual, "F4")} | {Mean(rows, r => r.Time.TotalSeconds, "F2")} | " +
                $"{Mean(rows, r => r.PeakMemoryBytes / (1024.0 * 1024.0), "F0")} |\n");
        }
        md.Append("\n## Per image\n\n| image | strategy | PSNR-Y (dB) | SSIM-Y | LR PSNR (dB) | perceptual | seconds | peak memory (MB) |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var r in records.OrderBy(r => r.Image, StringComparer.Ordinal).ThenBy(r => IndexOf(strategyOrder, r.Strategy)))
        {
            md.Append($"| {MarkdownText.Cell(r.Image)} | {MarkdownText.Cell(r.Strategy)} | {Cell(r.Scores.PsnrY, "F2")} | {Cell(r.Scores.SsimY, "F4")} | {Cell(r.Scores.LrPsnr, "F2")} | " +
                $"{Cell(r.Scores.Perceptual, "F4")} | {Cell(r.Time.TotalSeconds, "F2")} | {Cell(r.PeakMemoryBytes / (1024.0 * 1024.0), "F0")} |\n");
        }
        return md.ToString();
    }

    /// <summary>Writes text (UTF-8) to a temporary file beside <paramref name="path"/> and moves it into place.</summary>
    /// <exception cref="ImageSaveException">The write failed (the message names the file).</exception>
    public static void WriteAtomically(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        ImageIO.WriteAtomically(path, new UTF8Encoding(false).GetBytes(text));
    }

    private static int IndexOf(IReadOnlyList<string> order, string strategy)
    {
        for (int i = 0; i < order.Count; i++)
        {
            if (order[i] == strategy)
            {
                return i;
            }
        }
        return order.Count;
    }

    private static string Mean(List<EvaluationRecord> rows, Func<EvaluationRecord, double?> value, string format)
    {
        var values = rows.Select(value).Where(v => v is not null).Select(v => v!.Value).ToList();
        return values.Count == 0 ? "-" : Cell(values.Average(), format);
    }

    private static string Cell(double? value, string format) => value switch
    {
        null => "-",
        double.PositiveInfinity => "∞",
        double v => v.ToString(format, CultureInfo.InvariantCulture),
    };

    private static string Number(double? value, string format) => value switch
    {
        null => "",
        double.PositiveInfinity => "inf",
        double v => v.ToString(format, CultureInfo.InvariantCulture),
    };

    private static double? Parse(string cell) => cell switch
    {
        "" => null,
        "inf" => double.PositiveInfinity,
        _ => double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static string Quote(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) < 0 ? cell : "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>RFC 4180 records (with the line each starts on): quoted cells may hold commas, quotes ("") and line breaks.</summary>
    private static List<(int Line, List<string> Cells)> SplitCsv(string text)
    {
        var rows = new List<(int, List<string>)>();
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        int line = 1, start = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n')
            {
                line++;
            }
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\n' || c == '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    continue; // CRLF: the \n ends the record
                }
                cells.Add(cell.ToString());
                cell.Clear();
                rows.Add((start, cells));
                cells = [];
                start = line;
            }
            else
            {
                cell.Append(c);
            }
        }
        if (cell.Length > 0 || cells.Count > 0)
        {
            cells.Add(cell.ToString());
            rows.Add((start, cells));
        }
        return rows;
    }
}
