using LatentIndigo.Web.Hosting;

// The LatentIndigo web demo: `dotnet run --project samples/LatentIndigo.Web [-- --model <export> | --stand-in] [--urls ...]`.
// docs/web.md explains hosting the pipeline in your own ASP.NET Core app with this sample as the reference.
try
{
    using var app = DemoApp.Build(args);
    app.Run();
    return 0;
}
catch (Exception ex) when (ex is LatentIndigo.LatentIndigoException or ArgumentException or InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
{
    // Bad switches, settings or model folders: one line that says what to do, not a stack trace.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

/// <summary>The entry point (public for WebApplicationFactory in the tests).</summary>
public partial class Program;
