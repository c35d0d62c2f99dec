using System.Text.Json;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Refuses exports of other diffusers pipelines with a message that names them: SDXL, inpainting (9-channel UNet) and
/// latent consistency models, recognised from <c>model_index.json</c>'s <c>_class_name</c>, the scheduler class and
/// the UNet's inputs (so folders without a model index are recognised too).
/// </summary>
internal static class PipelineKindCheck
{
    private const string Sdxl = "an SDXL export: its UNet also needs text_embeds and time_ids from two text encoders, which LatentIndigo does not provide. Use a Stable Diffusion 1.x or 2.x export.";
    private const string Inpainting = "an inpainting export: its UNet takes 9 channels (latents, mask, masked-image latents). Use the text-to-image export of the same model.";
    private const string Lcm = "a latent consistency model (LCM): it needs LCMScheduler's sampling and a timestep_cond input, which LatentIndigo does not implement. Use a non-LCM Stable Diffusion 1.x or 2.x export.";

    /// <summary>Adds one problem per refused kind found; notes an unknown pipeline class as a warning.</summary>
    public static void Check(JsonElement? modelIndex, SchedulerConfig? scheduler, ModelSession? unet, int? unetConfigInChannels,
        List<string> problems, ExportNotes notes)
    {
        var found = new List<string>();
        void Add(string reason, string what)
        {
            if (!found.Contains(what))
            {
                found.Add(what);
                problems.Add($"{reason}: {what}");
            }
        }
        var className = ModelFolderInspector.String(modelIndex, "_class_name");
        if (className is not null)
        {
            var reason = $"model_index.json names {className}";
            if (className.Contains("XL", StringComparison.Ordinal))
            {
                Add(reason, Sdxl);
            }
            else if (className.Contains("Inpaint", StringComparison.OrdinalIgnoreCase))
            {
                Add(reason, Inpainting);
            }
            else if (className.Contains("LatentConsistency", StringComparison.OrdinalIgnoreCase) || className.Contains("LCM", StringComparison.Ordinal))
            {
                Add(reason, Lcm);
            }
            else if (!className.Contains("StableDiffusion", StringComparison.Ordinal))
            {
                notes.Warn($"model_index.json names {className}, not a Stable Diffusion pipeline; loading the folder as a Stable Diffusion 1.x/2.x export.");
            }
        }
        if (unet is not null)
        {
            if (unet.Inputs.ContainsKey("text_embeds") || unet.Inputs.ContainsKey("time_ids"))
            {
                Add("unet/model.onnx takes text_embeds and time_ids", Sdxl);
            }
            if (unet.Inputs.ContainsKey("timestep_cond"))
            {
                Add("unet/model.onnx takes timestep_cond", Lcm);
            }
            var sampleChannels = unet.Inputs.TryGetValue("sample", out var sample) ? StaticShapes.Dim(sample, 1) : null;
            var outChannels = unet.Outputs.TryGetValue("out_sample", out var output) ? StaticShapes.Dim(output, 1) : null;
            if (sampleChannels is { } inC && outChannels is { } outC && inC == 2 * outC + 1)
            {
                Add($"unet/model.onnx takes {inC} input channels for {outC} output channels", Inpainting);
            }
        }
        if (scheduler?.ClassName is { } s && s.StartsWith("LCM", StringComparison.Ordinal))
        {
            Add($"scheduler_config.json names {s}", Lcm);
        }
        if (unetConfigInChannels == 9)
        {
            Add("unet/config.json says in_channels = 9", Inpainting);
        }
    }
}
