using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Runtime;

namespace LatentIndigo.Orleans;

/// <summary>Silo set-up: every silo gets the job grains; silos with a model set also get worker slots.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Adds the job and board grains and the default <see cref="IImageStore"/> (<see cref="FileImageStore"/>; register
    /// your own first for other URI schemes). The grain storage <see cref="LatentIndigoClusterOptions.StorageName"/>
    /// must be added too (ADO.NET in production). Worker grains are kept off this silo unless
    /// <see cref="AddLatentIndigoWorkers"/> is called as well.
    /// </summary>
    public static ISiloBuilder AddLatentIndigoJobs(this ISiloBuilder builder, Action<LatentIndigoClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<LatentIndigoClusterOptions>().Configure(o => configure?.Invoke(o));
        builder.Services.TryAddSingleton<IImageStore, FileImageStore>();
        // Heterogeneous silos: a grain class missing from a silo's GrainTypeOptions is never placed there.
        builder.Services.AddOptions<GrainTypeOptions>().PostConfigure<IServiceProvider>((o, services) =>
        {
            if (services.GetService<WorkerModelSet>() is null)
            {
                o.Classes.Remove(typeof(RestoreWorkerGrain));
            }
        });
        return builder;
    }

    /// <summary>
    /// Makes this silo a worker silo: it hosts <paramref name="modelSet"/> and activates
    /// <see cref="WorkerModelSet.Slots"/> worker grains on itself when it starts.
    /// </summary>
    public static ISiloBuilder AddLatentIndigoWorkers(this ISiloBuilder builder, WorkerModelSet modelSet)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(modelSet);
        // Registered through a factory so that the container disposes it (and the shared pipeline) when the silo stops.
        builder.Services.AddSingleton(_ => modelSet);
        builder.AddStartupTask(async (services, cancellationToken) =>
        {
            var grains = services.GetRequiredService<IGrainFactory>();
            string silo = services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
            for (int slot = 0; slot < modelSet.Slots; slot++)
            {
                await grains.GetGrain<IRestoreWorkerGrain>($"{silo}/{slot}").StartAsync();
            }
        });
        return builder;
    }
}
