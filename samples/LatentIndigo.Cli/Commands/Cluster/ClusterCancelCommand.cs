using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary><c>latent-indigo cluster cancel</c>: cancels a job (nothing more is handed out; running images stop at their next lease renewal).</summary>
public sealed class ClusterCancelCommand : Command<ClusterJobSettings>
{
    /// <inheritdoc />
    public override int Execute(CommandContext context, ClusterJobSettings settings, CancellationToken cancellationToken) =>
        RunAsync(settings, cancellationToken).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(ClusterJobSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.OpenAsync(settings, cancellationToken);
        var before = await ClusterStatusCommand.RequireJobAsync(connection.Jobs, settings.JobId);
        await connection.Jobs.CancelAsync(settings.JobId);
        CliApp.Console.MarkupLineInterpolated($"Cancelled job {settings.JobId} ({before.Done} of {before.Total} done; outputs written so far are whole and kept).");
        return 0;
    }
}
