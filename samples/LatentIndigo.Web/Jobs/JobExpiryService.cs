using LatentIndigo.Web.Hosting;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Jobs;

/// <summary>Forgets expired jobs regularly (a quarter of the result lifetime, at most every 30 s), so idle servers free memory too.</summary>
public sealed class JobExpiryService(JobStore store, IOptions<DemoSettings> options, TimeProvider time) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(options.Value.ResultLifetimeSeconds / 4, 0.1, 30));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                store.Expire();
            }
        }
        catch (OperationCanceledException)
        {
            // The app is stopping.
        }
    }
}
