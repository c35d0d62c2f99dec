using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary>Options of the verbs on one existing job (<c>watch</c>, <c>status</c>, <c>cancel</c>).</summary>
public sealed class ClusterJobSettings : ClusterSettings
{
    /// <summary>Job id.</summary>
    [CommandArgument(0, "<job-id>")]
    [Description("The id 'cluster submit' printed.")]
    public string JobId { get; init; } = "";

    /// <inheritdoc />
    public override ValidationResult Validate() => string.IsNullOrWhiteSpace(JobId)
        ? ValidationResult.Error("A job id is required.")
        : base.Validate();
}
