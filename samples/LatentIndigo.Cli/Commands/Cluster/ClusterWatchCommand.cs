using LatentIndigo.Orleans;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary>
/// <c>latent-indigo cluster watch</c>: follows a job, one line per change, until it ends; exit code 0 when every image
/// is done, 1 when some failed or the job was cancelled. Ctrl+C stops watching, not the job.
/// </summary>
public sealed class ClusterWatchCommand : Command<ClusterJobSettings>
{
    /// <inheritdoc />
    public override int Execute(CommandContext context, ClusterJobSettings settings, CancellationToken cancellationToken) =>
        RunAsync(settings, cancellationToken).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(ClusterJobSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.OpenAsync(settings, cancellationToken);
        return await WatchAsync(CliApp.Console, connection.Jobs, settings.JobId, cancellationToken);
    }

    /// <summary>Follows a job to its end and prints the summary; returns the exit code.</summary>
    internal static async Task<int> WatchAsync(IAnsiConsole console, RestoreClusterClient jobs, string jobId, CancellationToken cancellationToken)
    {
        await ClusterStatusCommand.RequireJobAsync(jobs, jobId);
        string? last = null;
        ClusterJobStatus status;
        try
        {
            status = await jobs.WatchAsync(jobId, new InlineProgress(s =>
            {
                string line = ClusterStatusCommand.Line(s);
                if (line != last)
                {
                    console.WriteLine(line);
                    last = line;
                }
            }), TimeSpan.FromMilliseconds(500), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.MarkupLineInterpolated($"[yellow]Stopped watching;[/] the job goes on. Cancel it with: latent-indigo cluster cancel {jobId}");
            throw;
        }
        return ClusterStatusCommand.PrintSummary(console, jobId, status);
    }

    // Reports on the caller's thread (Progress<T> would post to the thread pool and could print out of order).
    private sealed class InlineProgress(Action<ClusterJobStatus> report) : IProgress<ClusterJobStatus>
    {
        public void Report(ClusterJobStatus value) => report(value);
    }
}
