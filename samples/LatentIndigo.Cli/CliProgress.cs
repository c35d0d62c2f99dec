using Spectre.Console;

namespace LatentIndigo.Cli;

/// <summary>
/// How <c>restore</c>, <c>batch</c> and <c>eval</c> show progress. On a terminal that can redraw (interactive and ANSI):
/// Spectre's live bars. Otherwise (output redirected to a file or a pipe, a CI log): plain lines, one per event, written
/// when it happens, each ending in a newline and never in a carriage return. Spectre's own fallback for such consoles
/// prints a task only when it passes 25/50/75/95 % on a one-second timer, so a log could end on "p inn-only: 50%" for a
/// run that had finished every image.
/// </summary>
internal static class CliProgress
{
    /// <summary>Whether to draw Spectre's live progress (the test for Spectre's own choice of renderer).</summary>
    public static bool Live(IAnsiConsole console) => console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;

    /// <summary>One plain progress line (not markup).</summary>
    public static void Line(IAnsiConsole console, string text)
    {
        lock (console)
        {
            console.WriteLine(text.ReplaceLineEndings(" ").Replace('\r', ' '));
        }
    }
}
