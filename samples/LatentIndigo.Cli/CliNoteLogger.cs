using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace LatentIndigo.Cli;

/// <summary>Shows the library's information and warnings as <c>note:</c> lines on the console (debug and trace are dropped).</summary>
internal sealed class CliNoteLogger(IAnsiConsole console) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        var colour = logLevel >= LogLevel.Warning ? "yellow" : "grey";
        console.MarkupLine($"[{colour}]note:[/] {Markup.Escape(formatter(state, exception))}");
    }
}
