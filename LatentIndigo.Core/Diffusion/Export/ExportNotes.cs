using Microsoft.Extensions.Logging;

namespace LatentIndigo.Diffusion;

/// <summary>
/// What loading decided about an export that the user should know (settings overridden, graphs rewritten, constraints
/// of static shapes, defaults read from configs): one sentence each, logged at its level and kept for <c>sd-check</c>.
/// </summary>
internal sealed class ExportNotes
{
    private readonly List<(LogLevel Level, string Text)> items = [];

    public IReadOnlyList<(LogLevel Level, string Text)> Items => items;

    public void Info(string text) => items.Add((LogLevel.Information, text));

    public void Warn(string text) => items.Add((LogLevel.Warning, text));

    public void Log(ILogger logger)
    {
        foreach (var (level, text) in items)
        {
            logger.Log(level, "{Note}", text);
        }
    }
}
