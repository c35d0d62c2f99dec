using System.ComponentModel;
using System.Net;
using LatentIndigo.Orleans;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Spectre.Console;
using Spectre.Console.Cli;

namespace LatentIndigo.Cli.Commands.Cluster;

/// <summary>
/// <c>latent-indigo cluster silo</c>: runs one Orleans silo of a restoration cluster until Ctrl+C or SIGTERM. With
/// <c>--slots N</c> (default 1) it is a worker silo hosting a model set; with <c>--slots 0</c> it only holds jobs.
/// </summary>
public sealed class ClusterSiloCommand : Command<ClusterSiloCommand.Settings>
{
    /// <summary>Options of <c>cluster silo</c>.</summary>
    public sealed class Settings : ClusterSettings
    {
        /// <summary>Worker slots.</summary>
        [CommandOption("--slots <N>")]
        [Description("Worker slots on this silo, each restoring one image at a time with its own pipeline (one per GPU); 0: jobs only, no models (default 1).")]
        [DefaultValue(1)]
        public int Slots { get; init; } = 1;

        /// <summary>Stable Diffusion export folder.</summary>
        [CommandOption("--model <FOLDER>")]
        [Description("Stable Diffusion 1.x/2.x ONNX export folder on this machine. Without it (and without --stand-in): INN-only.")]
        public string? Model { get; init; }

        /// <summary>Use stand-in models.</summary>
        [CommandOption("--stand-in")]
        [Description("Host generated stand-in models with RANDOM weights (plumbing and timing runs, not restorations).")]
        public bool StandIn { get; init; }

        /// <summary>Compute of the stand-in models.</summary>
        [CommandOption("--stand-in-cost <COST>")]
        [Description("With --stand-in: none (default), cpu or sd.")]
        [DefaultValue("none")]
        public string StandInCost { get; init; } = "none";

        /// <summary>Pixel INN.</summary>
        [CommandOption("--inn <INN>")]
        [Description("Pixel INN: bundled name (bicubic-x4, realworld-x4) or a weights file.")]
        public string? Inn { get; init; }

        /// <summary>Latent INN.</summary>
        [CommandOption("--latent-inn <FILE>")]
        [Description("Latent INN trained for the export's VAE (for jobs with --strategy latent).")]
        public string? LatentInn { get; init; }

        /// <summary>Silo port.</summary>
        [CommandOption("--port <PORT>")]
        [Description("Port for silo-to-silo traffic (default 11111).")]
        [DefaultValue(11111)]
        public int Port { get; init; } = 11111;

        /// <summary>Gateway port.</summary>
        [CommandOption("--gateway-port <PORT>")]
        [Description("Port clients connect to (default 30000).")]
        [DefaultValue(30000)]
        public int GatewayPort { get; init; } = 30000;

        /// <summary>Advertised address.</summary>
        [CommandOption("--address <IP>")]
        [Description("The IP address other silos and clients reach this one at (default 127.0.0.1: one machine only).")]
        [DefaultValue("127.0.0.1")]
        public string Address { get; init; } = "127.0.0.1";

        /// <summary>Lease timeout.</summary>
        [CommandOption("--lease-timeout <SECONDS>")]
        [Description("Seconds without renewal after which a worker's image is handed to another worker (default 60).")]
        [DefaultValue(60.0)]
        public double LeaseTimeout { get; init; } = 60;

        /// <summary>Provider.</summary>
        [CommandOption("--provider <NAME>")]
        [Description("Where the diffusion models run: cpu (default) or cuda.")]
        [DefaultValue("cpu")]
        public string Provider { get; init; } = "cpu";

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Slots is < 0 or > 64)
            {
                return ValidationResult.Error($"--slots must be 0-64; got {Slots}.");
            }
            if (Model is not null && StandIn)
            {
                return ValidationResult.Error("Use either --model or --stand-in, not both.");
            }
            if (StandInCost is not ("none" or "cpu" or "sd"))
            {
                return ValidationResult.Error($"--stand-in-cost must be none, cpu or sd; got '{StandInCost}'.");
            }
            if (Port is < 1 or > 65535 || GatewayPort is < 1 or > 65535 || Port == GatewayPort)
            {
                return ValidationResult.Error($"--port and --gateway-port must be two different ports 1-65535; got {Port} and {GatewayPort}.");
            }
            if (!IPAddress.TryParse(Address, out _))
            {
                return ValidationResult.Error($"--address must be an IP address; got '{Address}'.");
            }
            if (LeaseTimeout is < 1 or > 86400)
            {
                return ValidationResult.Error($"--lease-timeout must be 1-86400 seconds; got {LeaseTimeout}.");
            }
            if (Provider is not ("cpu" or "cuda"))
            {
                return ValidationResult.Error($"--provider must be cpu or cuda; got '{Provider}'.");
            }
            return base.Validate();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        RunAsync(settings, cancellationToken).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var console = CliApp.Console;
        // Silos install (or update) the schema; idempotent and serialised in the database.
        await ClusterConnection.CheckDatabaseAsync(settings.ConnectionString, cancellationToken, install: true);
        using StandInFolder? standIn = settings.StandIn && settings.Slots > 0 ? PipelineFactory.CreateStandIn(settings.StandInCost) : null;
        if (standIn is not null)
        {
            console.MarkupLine("[black on yellow] STAND-IN MODELS [/] [yellow]random weights: the outputs are not real restorations.[/]");
        }
        string inn = settings.Inn ?? PipelineFactory.DefaultInn;
        var modelOptions = new LatentIndigo.Diffusion.DiffusionModelOptions
        {
            ExecutionProvider = settings.Provider == "cuda" ? LatentIndigo.Diffusion.ExecutionProviderKind.Cuda : LatentIndigo.Diffusion.ExecutionProviderKind.Cpu,
        };
        string? modelFolder = settings.Model ?? standIn?.Path;
        if (settings.Slots > 0)
        {
            // Load once up front: a wrong model folder or INN fails here, with its message, not inside a worker grain.
            PipelineFactory.Create(inn, modelFolder, settings.LatentInn, settings.StandIn, modelOptions, LatentIndigo.Invertible.InnEngine.Auto).Dispose();
        }
        var host = new HostBuilder()
            .UseOrleans(silo =>
            {
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = settings.ClusterId;
                    o.ServiceId = settings.ClusterId;
                });
                silo.ConfigureEndpoints(IPAddress.Parse(settings.Address), settings.Port, settings.GatewayPort, listenOnAnyHostAddress: settings.Address != "127.0.0.1");
                silo.UseLatentIndigoPostgres(settings.ConnectionString);
                silo.AddLatentIndigoJobs(o => o.LeaseTimeout = TimeSpan.FromSeconds(settings.LeaseTimeout));
                if (settings.Slots > 0)
                {
                    silo.AddLatentIndigoWorkers(new WorkerModelSet(
                        () => PipelineFactory.Create(inn, modelFolder, settings.LatentInn, settings.StandIn, modelOptions, LatentIndigo.Invertible.InnEngine.Auto,
                            maxConcurrentRestores: settings.Slots), settings.Slots,
                        new OnnxUpscaleEstimatorOptions { Session = modelOptions }));
                }
            })
            .Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            host.Dispose();
            throw new CliUserException($"The silo did not start: {ex.Message}");
        }
        try
        {
            var address = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
            string models = settings.Slots == 0 ? "jobs only, no models"
                : $"{settings.Slots} worker slot(s), {(standIn is not null ? "stand-in models" : settings.Model is null ? "INN-only" : settings.Model)}";
            console.MarkupLineInterpolated($"Silo {address} of cluster '{settings.ClusterId}' is up ({models}); gateway port {settings.GatewayPort}. Ctrl+C stops it.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            console.MarkupLine("Stopping the silo (its running images go back to the job when their leases run out)...");
        }
        finally
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await host.StopAsync(timeout.Token);
            }
            finally
            {
                host.Dispose();
            }
        }
        console.MarkupLine("Silo stopped.");
        return 0;
    }
}
