using System.Text;

namespace LatentIndigo;

/// <summary>Text placed in the Markdown reports (batch, eval): one place that keeps a table row on one line.</summary>
internal static class MarkdownText
{
    /// <summary>
    /// Text for one table cell: a '|' is escaped and control characters (a newline in a file name) are written as
    /// escapes (\n, \r, \t, \xNN), so that one row stays one line and the name stays recognisable.
    /// </summary>
    public static string Cell(string text)
    {
        var cell = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            cell.Append(c switch
            {
                '|' => "\\|",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\x{(int)c:X2}",
                _ => c.ToString(),
            });
        }
        return cell.ToString();
    }
}
