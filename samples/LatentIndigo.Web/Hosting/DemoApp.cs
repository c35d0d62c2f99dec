using System.Text.Json.Serialization;
using LatentIndigo.Web.Api;
using LatentIndigo.Web.Files;
using LatentIndigo.Web.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Hosting;

/// <summary>
/// Builds the demo app: services (one pipeline, the queue, the job store), the API and the page. Program.cs runs it;
/// tests start it on a free loopback port (<c>--urls http://127.0.0.1:0</c>).
/// </summary>
public static class DemoApp
{
    /// <summary>Builds the app from command-line arguments (<see cref="DemoCommandLine"/> switches plus ASP.NET Core's).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = DemoCommandLine.Translate(args) });
        // appsettings.json next to the app, below environment variables and the command line: found whatever the
        // working folder of `dotnet run --project samples/LatentIndigo.Web` is.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = "appsettings.json",
            Optional = true,
            FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
        });
        AddServices(builder.Services, builder.Configuration);
        configure?.Invoke(builder);
        var app = builder.Build();
        MapEndpoints(app);
        return app;
    }

    /// <summary>The demo's services: what an app hosting the pipeline registers (docs/web.md).</summary>
    public static void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DemoSettings>().Bind(configuration.GetSection(DemoSettings.Section)).Validate(s =>
        {
            s.Validate();
            return true;
        });
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PipelineHost>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<RestoreQueue>();
        services.AddSingleton<EstimatorCatalog>();
        services.AddSingleton<SampleCatalog>();
        services.AddSingleton<EvaluationFolder>();
        services.AddHostedService<JobExpiryService>();
        services.AddHostedService<StageTraceLogger>();
        services.AddProblemDetails();
        services.AddOpenApi();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never);
    }

    private static void MapEndpoints(WebApplication app)
    {
        // Load the models at startup (not on the first request), so a bad --model fails the start with its message.
        var host = app.Services.GetRequiredService<PipelineHost>();
        _ = app.Services.GetRequiredService<IOptions<DemoSettings>>().Value;
        app.Logger.LogInformation("LatentIndigo web demo: {Mode}", host.Mode);

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        var page = new EmbeddedFileProvider(typeof(DemoApp).Assembly, "LatentIndigo.Web.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = page });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = page,
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.MapOpenApi();
        app.MapRestoreApi();
        app.MapInfoApi();
    }
}
