using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace LatentIndigo.Web.Tests.Api;

/// <summary>
/// The demo in-process with small limits sized for the test images: chelsea_x4 (112×75, 16.6 kB) fits everything at
/// ×4, and each generated image breaks exactly one limit.
/// </summary>
public class DemoFactory : WebApplicationFactory<Program>
{
    public const long MaxUploadBytes = 100_000;
    public const double MaxInputMegapixels = 0.05;   // 50,000 pixels: chelsea_x4 is 8,400
    public const double MaxOutputMegapixels = 0.2;   // ×4: 134,400 fits; ×8: 537,600 does not
    public const long MaxRestoreMemoryMiB = 2048;    // inn-only, none and latent fit; pixel (≈3.3 GiB at tile 64) does not

    /// <summary>The app's clock, moved by the expiry tests.</summary>
    public TestClock Clock { get; } = new();

    protected virtual bool StandIn => true;

    protected virtual IEnumerable<(string Key, string Value)> Settings =>
    [
        ("Demo:MaxUploadBytes", MaxUploadBytes.ToString()),
        ("Demo:MaxInputMegapixels", "0.05"),
        ("Demo:MaxOutputMegapixels", "0.2"),
        ("Demo:MaxRestoreMemoryMiB", MaxRestoreMemoryMiB.ToString()),
        ("Demo:DisconnectGraceSeconds", "0.5"),
        ("Demo:MaxQueuedJobs", "2"),
    ];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Demo:StandIn", StandIn ? "true" : "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

    internal DemoClient Client() => new(CreateClient());
}

/// <summary>
/// An INN-only demo (no models) whose results expire after 60 s of its clock, whose result budget holds one PNG, and
/// whose Evaluation view opens <see cref="EvalFolder"/>.
/// </summary>
public sealed class InnOnlyFactory : DemoFactory
{
    /// <summary>An eval output folder as <c>latent-indigo eval</c> writes it.</summary>
    public EvalFolderFixture EvalFolder { get; } = new();

    protected override bool StandIn => false;

    protected override IEnumerable<(string Key, string Value)> Settings =>
        [.. base.Settings, ("Demo:ResultLifetimeSeconds", "60"), ("Demo:MaxStoredResultBytes", "1"), ("Demo:EvalFolder", EvalFolder.Path)];

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        EvalFolder.Dispose();
    }
}

/// <summary>A clock the tests move by hand (timers still run in real time).</summary>
public sealed class TestClock : TimeProvider
{
    private long ticks = DateTimeOffset.UtcNow.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}

/// <summary>The API test classes that share one stand-in app (loading the pipeline once).</summary>
[CollectionDefinition(Name)]
public sealed class StandInApp : ICollectionFixture<DemoFactory>
{
    public const string Name = "stand-in app";
}
