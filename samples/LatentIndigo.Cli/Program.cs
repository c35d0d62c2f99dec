using System.Runtime.InteropServices;
using LatentIndigo.Cli;

// Ctrl+C (SIGINT) and SIGTERM cancel the running command cleanly: outputs are written atomically, so nothing half-written
// is left, and temporary folders (stand-in models) are removed on the way out. A second signal ends the process at once.
using var cancellation = new CancellationTokenSource();
int signals = 0;
bool terminated = false;
void OnSignal(PosixSignalContext context)
{
    if (Interlocked.Increment(ref signals) == 1)
    {
        context.Cancel = true;
        terminated |= context.Signal == PosixSignal.SIGTERM;
        // Say so at once: the run stops at the next step, tile or INN window (up to a few seconds on a busy CPU).
        Console.Error.WriteLine("Cancelling after the current step (send the signal again to stop at once)...");
        cancellation.Cancel();
    }
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
int code = CliApp.Run(args, cancellation.Token);
// 128 + signal number, as shells report it: 130 for SIGINT, 143 for SIGTERM.
return code == 130 && terminated ? 143 : code;
