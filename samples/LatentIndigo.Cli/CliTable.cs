using Spectre.Console;

namespace LatentIndigo.Cli;

/// <summary>
/// A table of plain-text cells that never breaks a value or cuts a header: drawn as a Spectre table when every column
/// fits the console's width at its natural size, otherwise as one "header: value" line per cell, grouped per row (a
/// narrow terminal, or output redirected to a file at the default 80 columns). A figure like "448×300" split over two
/// lines reads as two numbers.
/// </summary>
internal sealed class CliTable(string? title, params string[] headers)
{
    private readonly List<string[]> rows = [];

    public CliTable AddRow(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"{cells.Length} cells for {headers.Length} columns.", nameof(cells));
        }
        rows.Add(cells);
        return this;
    }

    /// <summary>Columns a bordered table needs: each column's widest text plus a space either side and a border.</summary>
    public int NaturalWidth => 1 + headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max() + 3).Sum();

    public void Write(IAnsiConsole console)
    {
        if (NaturalWidth <= console.Profile.Width)
        {
            var table = new Table();
            if (title is not null)
            {
                table.Title(Markup.Escape(title));
            }
            foreach (var header in headers)
            {
                table.AddColumn(new TableColumn(new Text(header)).NoWrap());
            }
            foreach (var row in rows)
            {
                table.AddRow(row.Select(c => new Text(c)).ToArray());
            }
            console.Write(table);
            return;
        }
        if (title is not null)
        {
            console.WriteLine(title + ":");
        }
        foreach (var row in rows)
        {
            for (int i = 0; i < headers.Length; i++)
            {
                console.WriteLine((i == 0 ? "- " : "  ") + headers[i] + ": " + row[i]);
            }
        }
    }
}
