using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// <c>latent-indigo sd-check &lt;folder&gt;</c> (or <c>--stand-in</c>): loads and validates an SD ONNX export, prints
/// what was found, then encodes a synthetic image, runs one UNet + DDIM step and decodes, with timings.
/// </summary>
public sealed class SdCheckCommand : Command<SdCheckCommand.Settings>
{
    /// <summary>Arguments of <c>sd-check</c>.</summary>
    public sealed class Settings : ProviderSettings
    {
        /// <summary>The export folder.</summary>
        [CommandArgument(0, "[folder]")]
        [Description("Stable Diffusion ONNX export folder (diffusers or optimum layout).")]
        public string? Folder { get; init; }

        /// <summary>Use generated stand-in models instead of a real export.</summary>
        [CommandOption("--stand-in")]
        [Description("Check generated stand-in models (plumbing only, not a diffusion model) instead of a folder.")]
        public bool StandIn { get; init; }

        /// <summary>Edge of the synthetic test image.</summary>
        [CommandOption("--size")]
        [Description("Edge in pixels of the synthetic test image (multiple of 8, default 256).")]
        [DefaultValue(256)]
        public int Size { get; init; } = 256;

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (StandIn == (Folder is not null))
            {
                return ValidationResult.Error("Give either a model folder or --stand-in.");
            }
            if (Size is < 8 or > 4096 || Size % 8 != 0)
            {
                return ValidationResult.Error("--size must be a multiple of 8 between 8 and 4096.");
            }
            return base.Validate();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var standIn = settings.StandIn ? StandInModelBuilder.CreateTemporary() : null;
        var folder = standIn?.Path ?? settings.Folder!;
        var options = settings.ModelOptions();
        var console = CliApp.Console;
        var clock = Stopwatch.StartNew();
        using var models = StableDiffusionModels.Load(folder, options);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        if (models.IsStandIn)
        {
            console.MarkupLine("[yellow]STAND-IN MODELS:[/] generated test graphs, not a diffusion model. This checks plumbing only.");
        }
        var table = new Table().AddColumn("found").AddColumn("value");
        void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
        Row("folder", models.Folder);
        Row("execution provider", models.ExecutionProvider.ToString());
        Row("precision", models.Precision.ToString());
        Row("latent channels", models.LatentChannels.ToString(CultureInfo.InvariantCulture));
        Row("VAE encoder output", models.VaeEncoder.OutputName + (models.EncoderOutput == VaeEncoderOutputKind.LatentParameters ? " (mean used)"
            : models.VaeEncoder.SamplingRemoved ? " (sampling head removed: posterior mean)" : models.VaeEncoder.SamplesNoise ? " (sampled at every call)" : ""));
        Row("default latent tile", models.DefaultLatentTileSize.ToString(CultureInfo.InvariantCulture));
        Row("UNet timestep", (models.Unet.TimestepRank == 0 ? "scalar " : "[batch] ") + models.Unet.TimestepElementType);
        Row("text hidden size", models.HiddenSize.ToString(CultureInfo.InvariantCulture));
        Row("scaling factor", models.ScalingFactor.ToString(CultureInfo.InvariantCulture) + (models.ScalingFactorFromConfig ? "" : " (default: no VAE config states it)"));
        Row("prediction type", models.PredictionType.ToString());
        Row("scheduler", models.SchedulerConfig.ToString());
        console.Write(table);
        // What loading decided about this export (overridden settings, rewritten graphs, static-size constraints, …).
        foreach (var note in models.LoadNotes)
        {
            console.MarkupLineInterpolated($"[yellow]note:[/] {note}");
        }

        using var scope = torch.NewDisposeScope();
        var timings = new List<(string, double)> { ("load + validate", loadMs) };
        double Time(Action a)
        {
            clock.Restart();
            a();
            return clock.Elapsed.TotalMilliseconds;
        }
        TextConditioning? text = null;
        timings.Add(("text encoder (empty prompt)", Time(() => text = models.EncodePrompt(cancellationToken: cancellationToken))));
        var ramp = torch.linspace(0, 1, settings.Size);
        // On the models' device (the GPU with --provider cuda), where the UNet returns its output.
        var image = torch.stack([ramp.view(1, -1).expand(settings.Size, -1), ramp.view(-1, 1).expand(-1, settings.Size), torch.full([settings.Size, settings.Size], 0.5f)])
            .unsqueeze(0).to(models.Device);
        torch.Tensor latents = null!;
        timings.Add(("VAE encode", Time(() => latents = models.Vae.Encode(image, cancellationToken: cancellationToken))));
        using var sampler = models.CreateSampler();
        sampler.SetTimesteps(50);
        int t = sampler.TimestepsForStrength(0.5)[0];
        using var generator = new torch.Generator(12345);
        var noise = torch.randn(latents.shape, generator: generator).to(latents.device);
        var z = sampler.AddNoise(latents, noise, t);
        torch.Tensor eps = null!;
        timings.Add(($"UNet step (t = {t}, first: includes warm-up)", Time(() => eps = models.Unet.PredictNoise(z, t, text!, cancellationToken))));
        // Steady state: the median of a few more steps (the first pays for kernel selection and buffer allocation).
        var warm = new double[5];
        for (int i = 0; i < warm.Length; i++)
        {
            warm[i] = Time(() => models.Unet.PredictNoise(z, t, text!, cancellationToken));
        }
        Array.Sort(warm);
        timings.Add(("UNet step (median of 5 more)", warm[warm.Length / 2]));
        using (var step = sampler.Step(eps, t, z, 0.0, null))
        {
            if (!torch.isfinite(step.PrevSample).all().item<bool>())
            {
                throw new CliUserException("The DDIM step produced NaN or infinite latents: the UNet output is not usable.");
            }
        }
        torch.Tensor decoded = null!;
        timings.Add(("VAE decode", Time(() => decoded = models.Vae.Decode(latents, cancellationToken: cancellationToken))));
        var timingTable = new Table().AddColumn("stage").AddColumn(new TableColumn("ms").RightAligned());
        foreach (var (stage, ms) in timings)
        {
            timingTable.AddRow(Markup.Escape(stage), ms.ToString("F1", CultureInfo.InvariantCulture));
        }
        console.Write(timingTable);
        double error = (decoded - image).abs().mean().item<float>();
        console.MarkupLineInterpolated(
            $"VAE round trip: decoded [[{string.Join("×", decoded.shape)}]], mean |decode(encode(x)) − x| = {error.ToString("F4", CultureInfo.InvariantCulture)}{(models.IsStandIn ? " (stand-in models)" : "")}.");
        console.MarkupLine(models.IsStandIn ? "[green]OK[/] (stand-in models: plumbing only)." : "[green]OK[/]: the export loads and runs.");
        return 0;
    }
}
