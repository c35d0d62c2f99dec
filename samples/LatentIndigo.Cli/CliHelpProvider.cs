using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace LatentIndigo.Cli;

/// <summary>
/// Spectre's help, with two changes: the global switch <c>--verbose</c> is listed (it is taken off the command line
/// before Spectre parses it, so Spectre would not know it), and lines carry no trailing padding (Spectre pads every
/// grid cell to its column's width, which shows as trailing spaces in redirected help and in diffs).
/// </summary>
internal sealed class CliHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    /// <inheritdoc />
    public override IEnumerable<IRenderable> Write(ICommandModel model, ICommandInfo? command) =>
        base.Write(model, command).Select(r => (IRenderable)new TrimmedLines(r));

    /// <inheritdoc />
    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        foreach (var renderable in base.GetFooter(model, command))
        {
            yield return renderable;
        }
        yield return new Markup($"\n[yellow]GLOBAL OPTIONS:[/]\n    {CliApp.VerboseFlag}    Add the stack trace to error messages (anywhere in the line)\n");
    }

    /// <summary>Renders another renderable with the spaces at the end of each line removed.</summary>
    internal sealed class TrimmedLines(IRenderable inner) : IRenderable
    {
        public Measurement Measure(RenderOptions options, int maxWidth) => inner.Measure(options, maxWidth);

        public IEnumerable<Segment> Render(RenderOptions options, int maxWidth)
        {
            var line = new List<Segment>();
            foreach (var segment in inner.Render(options, maxWidth))
            {
                if (!segment.IsLineBreak)
                {
                    line.Add(segment);
                    continue;
                }
                foreach (var kept in TrimEnd(line))
                {
                    yield return kept;
                }
                line.Clear();
                yield return segment;
            }
            foreach (var kept in TrimEnd(line))
            {
                yield return kept;
            }
        }

        private static IEnumerable<Segment> TrimEnd(List<Segment> line)
        {
            int last = line.Count - 1;
            while (last >= 0 && !line[last].IsControlCode && line[last].Text.TrimEnd(' ').Length == 0)
            {
                last--;
            }
            for (int i = 0; i <= last; i++)
            {
                yield return i == last && !line[i].IsControlCode ? new Segment(line[i].Text.TrimEnd(' '), line[i].Style) : line[i];
            }
        }
    }
}
