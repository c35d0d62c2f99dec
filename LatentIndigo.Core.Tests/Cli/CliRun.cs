using LatentIndigo.Cli;
using Spectre.Console.Testing;

namespace LatentIndigo.Tests.Cli;

/// <summary>Runs the real command tree in-process and captures what it printed.</summary>
internal static class CliRun
{
    public static (int Code, string Output) Run(params string[] args)
    {
        var console = new TestConsole();
        console.Profile.Width = 400;
        int code = CliApp.Run(args, default, console);
        return (code, console.Output);
    }

    /// <summary>No .NET stack trace in the output ("   at Namespace.Type.Method(...)").</summary>
    public static bool HasStackTrace(string output) => output.Contains("   at ", StringComparison.Ordinal);
}
