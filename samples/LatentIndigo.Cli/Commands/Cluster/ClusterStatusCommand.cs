using System.Globalization;
using LatentIndigo.Orleans;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary><c>latent-indigo cluster status</c>: a job's state now (exit code as <c>watch</c> once it ended, else 0).</summary>
public sealed class ClusterStatusCommand : Command<ClusterJobSettings>
{
    /// <inheritdoc />
    public override int Execute(CommandContext context, ClusterJobSettings settings, CancellationToken cancellationToken) =>
        RunAsync(settings, cancellationToken).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(ClusterJobSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.OpenAsync(settings, cancellationToken);
        var status = await RequireJobAsync(connection.Jobs, settings.JobId);
        CliApp.Console.WriteLine(Line(status));
        return status.Finished ? PrintSummary(CliApp.Console, settings.JobId, status) : 0;
    }

    /// <summary>The job's status; a job id nobody submitted is a user error (the grain would answer an empty job).</summary>
    internal static async Task<ClusterJobStatus> RequireJobAsync(RestoreClusterClient jobs, string jobId)
    {
        var status = await jobs.GetStatusAsync(jobId);
        return status.Total > 0 ? status : throw new CliUserException($"No job '{jobId}' in this cluster (check the id and --cluster-id).");
    }

    internal static string Line(ClusterJobStatus s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.Done}/{s.Total} done, {s.Running} running, {s.Failed} failed{(s.Reassigned > 0 ? $", {s.Reassigned} handed out again" : "")}{(s.Cancelled ? ", cancelled" : "")}");

    internal static int PrintSummary(IAnsiConsole console, string jobId, ClusterJobStatus status)
    {
        foreach (var failure in status.Failures)
        {
            console.MarkupLineInterpolated($"[red]failed[/] {failure}");
        }
        var byWorker = string.Join(", ", status.DoneBy.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => $"{w.Key}: {w.Value}"));
        if (status.Cancelled)
        {
            console.MarkupLineInterpolated($"[yellow]Job {jobId} was cancelled[/] with {status.Done} of {status.Total} images done.");
            return 1;
        }
        console.MarkupLineInterpolated($"Job {jobId}: {status.Done} of {status.Total} done, {status.Failed} failed. Done by {byWorker}.");
        return status.Failed == 0 ? 0 : 1;
    }
}
