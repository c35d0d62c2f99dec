using LatentIndigo.Cli;

// Ctrl+C cancels the running command cleanly (outputs are written atomically, so nothing half-written is left).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
return CliApp.Run(args, cancellation.Token);
