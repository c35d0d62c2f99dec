using LatentIndigo.Diffusion;
using LatentIndigo.Diffusion.Architecture;
using LatentIndigo.Diffusion.Import;
using LatentIndigo.Weights;
using Xunit;

namespace LatentIndigo.Tests.Diffusion.Import;

/// <summary>
/// Tiny checkpoints in the LDM layout, written with the library's writers from a structural enumeration of LDM's
/// module tree (<see cref="LdmCheckpointBuilder"/>), read back through <see cref="SingleFileCheckpoint"/>'s diffusers
/// views: every diffusers tensor must hold exactly the values of the LDM tensor (or third of it) it comes from.
/// </summary>
public sealed class SingleFileCheckpointTests : IDisposable
{
    private readonly TestData.TempFolder temp = TestData.NewTempFolder();

    public void Dispose() => temp.Dispose();

    private static SingleFileOptions Options(PredictionType? prediction = null, bool ema = false, string? yaml = null) => new()
    {
        PredictionType = prediction,
        UseEma = ema,
        OriginalConfigPath = yaml,
        OpenClipFullLayers = LdmCheckpointBuilder.TinyOpenClipFullLayers,
    };

    public static TheoryData<string, string, bool> Layouts() => new()
    {
        { "sd1", "F32", false }, { "sd1", "F16", true }, { "sd1", "BF16", false }, { "sd1-no-text_model", "F32", false },
        { "sd2", "F32", true }, { "sd2", "F16", false }, { "sd2", "BF16", true }, { "sd2-23-blocks", "F32", false },
        { "sd1-linear-vae-attention", "F16", false },
    };

    private static TinyLdm Model(string layout) => layout switch
    {
        "sd1" => TinyLdm.Sd1,
        "sd1-no-text_model" => TinyLdm.Sd1 with { ClipTextModelLevel = false },
        "sd1-linear-vae-attention" => TinyLdm.Sd1 with { VaeAttentionAsConv = false },
        "sd2" => TinyLdm.Sd2,
        "sd2-23-blocks" => TinyLdm.Sd2 with { TextBlocks = LdmCheckpointBuilder.TinyOpenClipFullLayers - 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Every_diffusers_tensor_holds_the_values_of_its_LDM_tensor(string layout, string dtypeName, bool ckpt)
    {
        var model = Model(layout);
        var dtype = WeightDTypes.FromSafetensorsName(dtypeName)!.Value;
        var tensors = LdmCheckpointBuilder.Enumerate(model);
        var path = temp.File(ckpt ? "model.ckpt" : "model.safetensors");
        var values = LdmCheckpointBuilder.Write(path, tensors, dtype, ema: true);
        using var checkpoint = SingleFileCheckpoint.Open(path, Options(model.OpenClip ? PredictionType.VPrediction : null));

        Assert.Equal(model.OpenClip ? StableDiffusionFamily.Sd2 : StableDiffusionFamily.Sd1, checkpoint.Family);
        Assert.True(checkpoint.HasEma);
        Assert.False(checkpoint.UsesEma); // trained weights by default, as diffusers
        var views = new Dictionary<string, IWeightSource> { ["unet"] = checkpoint.Unet, ["vae"] = checkpoint.Vae, ["text"] = checkpoint.TextEncoder };
        var seen = new HashSet<(string, string)>();
        foreach (var t in tensors)
        {
            var targets = t.Diffusers is { } first ? new[] { first }.Concat(t.More).ToArray() : [];
            for (int part = 0; part < targets.Length; part++)
            {
                var (component, name) = targets[part];
                var view = views[component];
                var expected = values[t.Ldm];
                if (t.Part >= 0)
                {
                    // A third of OpenCLIP's fused in_proj: rows [part·C, (part+1)·C) of [3C, ...].
                    int third = expected.Length / 3;
                    expected = expected[(part * third)..((part + 1) * third)];
                }
                var read = new float[view.Info(name).ElementCount];
                view.ReadFloat32(name, read);
                Assert.True(expected.SequenceEqual(read), $"{component} {name} differs from {t.Ldm}");
                Assert.Equal(dtype, view.Info(name).DType);
                seen.Add((component, name));
            }
        }
        // The views hold exactly the tensors the enumeration maps, and those are the architecture's parameter lists.
        foreach (var (component, view) in views)
        {
            Assert.Equal(seen.Where(s => s.Item1 == component).Select(s => s.Item2).Order(), view.Names.Order());
        }
        Assert.Equal(SdParameterCount.UnetParameters(checkpoint.UnetConfig).Select(p => p.Name).Order(), checkpoint.Unet.Names.Order());
        Assert.Equal(SdParameterCount.TextParameters(checkpoint.TextConfig).Select(p => p.Name).Order(), checkpoint.TextEncoder.Names.Order());
    }

    [Fact]
    public void Vae_attention_comes_out_as_linear_matrices_from_1x1_convolutions()
    {
        var path = temp.File("model.safetensors");
        LdmCheckpointBuilder.Write(path, LdmCheckpointBuilder.Enumerate(TinyLdm.Sd1), WeightDType.Float32);
        using var checkpoint = SingleFileCheckpoint.Open(path, Options());
        Assert.Equal([64L, 64L], checkpoint.Vae.Info("encoder.mid_block.attentions.0.to_q.weight").Shape);
        Assert.Equal("first_stage_model.encoder.mid.attn_1.q.weight", checkpoint.Vae.MappingOf("encoder.mid_block.attentions.0.to_q.weight").Source);
    }

    [Fact]
    public void Inferred_architecture_matches_the_tiny_models_and_published_defaults()
    {
        var path = temp.File("sd1.safetensors");
        LdmCheckpointBuilder.Write(path, LdmCheckpointBuilder.Enumerate(TinyLdm.Sd1), WeightDType.Float32);
        using (var sd1 = SingleFileCheckpoint.Open(path, Options()))
        {
            Assert.Equal([32, 64, 64], sd1.UnetConfig.BlockOutChannels);
            Assert.Equal(2, sd1.UnetConfig.LayersPerBlock);
            Assert.Equal(64, sd1.UnetConfig.CrossAttentionDim);
            Assert.False(sd1.UnetConfig.LinearProjection);
            Assert.Equal(8, sd1.UnetConfig.HeadsAtLevel(0)); // SD 1.x: 8 heads
            Assert.Equal([32, 64], sd1.VaeConfig.BlockOutChannels);
            Assert.Equal(2, sd1.VaeConfig.LayersPerBlock);
            Assert.Equal((64, 2, 1, 128, true, 100), (sd1.TextConfig.Hidden, sd1.TextConfig.Layers, sd1.TextConfig.Heads, sd1.TextConfig.Intermediate, sd1.TextConfig.QuickGelu, sd1.TextConfig.VocabularySize));
            Assert.Equal(PredictionType.Epsilon, sd1.PredictionType);
        }
        var path2 = temp.File("sd2.safetensors");
        LdmCheckpointBuilder.Write(path2, LdmCheckpointBuilder.Enumerate(TinyLdm.Sd2), WeightDType.Float32);
        using var sd2 = SingleFileCheckpoint.Open(path2, Options(PredictionType.VPrediction));
        Assert.True(sd2.UnetConfig.LinearProjection);
        Assert.Equal([1, 2], sd2.UnetConfig.HeadsPerLevel!); // SD 2.x: 64-channel heads
        Assert.True(sd2.UnetConfig.UpcastAttention);
        Assert.Equal(2, sd2.TextConfig.Layers); // 3 blocks in the file = the full tiny tower: the last is dropped
        Assert.False(sd2.TextConfig.QuickGelu);
        Assert.Equal(PredictionType.VPrediction, sd2.PredictionType);
    }

    [Fact]
    public void Ema_flag_reads_the_EMA_copy()
    {
        var tensors = LdmCheckpointBuilder.Enumerate(TinyLdm.Sd1);
        var path = temp.File("model.ckpt");
        var values = LdmCheckpointBuilder.Write(path, tensors, WeightDType.Float32, ema: true);
        using var checkpoint = SingleFileCheckpoint.Open(path, Options(ema: true));
        Assert.True(checkpoint.UsesEma);
        var read = new float[checkpoint.Unet.Info("down_blocks.1.resnets.0.conv1.weight").ElementCount];
        checkpoint.Unet.ReadFloat32("down_blocks.1.resnets.0.conv1.weight", read);
        Assert.Equal(values["model_ema.diffusion_modelinput_blocks40in_layers2weight"], read);
        Assert.NotEqual(values["model.diffusion_model.input_blocks.4.0.in_layers.2.weight"], read);
    }

    [Fact]
    public void Original_config_yaml_gives_heads_and_prediction_type()
    {
        var yaml = temp.File("v2-inference-v.yaml");
        File.WriteAllText(yaml, """
            model:
              base_learning_rate: 1.0e-4
              target: ldm.models.diffusion.ddpm.LatentDiffusion
              params:
                parameterization: "v"
                unet_config:
                  target: ldm.modules.diffusionmodules.openaimodel.UNetModel
                  params:
                    num_head_channels: 32 # a tiny model's heads
                    use_linear_in_transformer: True
                    context_dim: 64
                    channel_mult: [ 1, 2 ]
                cond_stage_config:
                  target: ldm.modules.encoders.modules.FrozenOpenCLIPEmbedder
                  params:
                    freeze: True
                    layer: "penultimate"
            """);
        var path = temp.File("model.safetensors");
        LdmCheckpointBuilder.Write(path, LdmCheckpointBuilder.Enumerate(TinyLdm.Sd2), WeightDType.Float16);
        using var checkpoint = SingleFileCheckpoint.Open(path, Options(yaml: yaml));
        Assert.Equal(PredictionType.VPrediction, checkpoint.PredictionType);
        Assert.Equal([2, 4], checkpoint.UnetConfig.HeadsPerLevel!);

        File.WriteAllText(yaml, "model:\n  params:\n    unet_config:\n      params:\n        context_dim: 1024\n");
        var ex = Assert.Throws<ModelImportException>(() => SingleFileCheckpoint.Open(path, Options(PredictionType.Epsilon, yaml: yaml)));
        Assert.Contains("context_dim: 1024", ex.Message);
    }

    private string Write(TinyLdm model, Func<List<LdmTensor>, List<LdmTensor>>? edit = null, IEnumerable<(string, long[])>? extra = null)
    {
        var tensors = LdmCheckpointBuilder.Enumerate(model);
        var path = temp.File(Guid.NewGuid().ToString("N") + ".safetensors");
        LdmCheckpointBuilder.Write(path, edit?.Invoke(tensors) ?? tensors, WeightDType.Float16, extra: extra);
        return path;
    }

    private static ModelImportException Refused(string path, SingleFileOptions? options = null) =>
        Assert.Throws<ModelImportException>(() => SingleFileCheckpoint.Open(path, options ?? Options(PredictionType.Epsilon)).Dispose());

    [Fact]
    public void Sd2_without_a_prediction_type_is_refused_naming_the_rule()
    {
        var ex = Refused(Write(TinyLdm.Sd2), Options());
        Assert.Contains("768-pixel SD 2.x models", ex.Message);
        Assert.Contains("v-prediction", ex.Message);
        Assert.Contains("--prediction-type", ex.Message);
    }

    [Fact]
    public void Sdxl_is_refused_by_name() =>
        Assert.Contains("SDXL", Refused(Write(TinyLdm.Sd1, extra: [("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", [64])])).Message);

    [Fact]
    public void Sd3_is_refused_by_name() =>
        Assert.Contains("Stable Diffusion 3", Refused(Write(TinyLdm.Sd1, extra: [("model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight", [6, 2])])).Message);

    [Fact]
    public void Inpainting_unet_is_refused_by_name()
    {
        var path = Write(TinyLdm.Sd1, tensors => tensors.Select(t => t.Ldm == "model.diffusion_model.input_blocks.0.0.weight" ? t with { Shape = [32, 9, 3, 3] } : t).ToList());
        Assert.Contains("inpainting", Refused(path).Message);
    }

    [Fact]
    public void Unknown_layouts_are_refused()
    {
        var diffusersUnet = temp.File("diffusion_pytorch_model.safetensors");
        SafetensorsWriter.WriteFile(diffusersUnet, [(new WeightInfo("down_blocks.0.resnets.0.conv1.weight", WeightDType.Float32, [2]), new float[2])]);
        var ex = Refused(diffusersUnet);
        Assert.Contains("no model.diffusion_model.*", ex.Message);
        Assert.Contains("diffusers folder", ex.Message);
        var noText = Write(TinyLdm.Sd1, tensors => tensors.Where(t => !t.Ldm.StartsWith("cond_stage_model.", StringComparison.Ordinal)).ToList());
        Assert.Contains("no text encoder", Refused(noText).Message);
    }

    [Fact]
    public void Missing_and_unexpected_tensors_are_named_with_the_assumed_architecture()
    {
        var path = Write(TinyLdm.Sd1,
            tensors => tensors.Where(t => t.Ldm != "first_stage_model.decoder.up.0.block.1.conv2.weight").ToList(),
            extra: [("model.diffusion_model.input_blocks.1.1.extra_gate.weight", [4])]);
        var ex = Refused(path);
        Assert.Contains("VAE decoder.up_blocks.1.resnets.1.conv2.weight", ex.Message);
        Assert.Contains("unexpected tensors (1): model.diffusion_model.input_blocks.1.1.extra_gate.weight", ex.Message);
        Assert.Contains("SD 1.x layout: UNet channels [32, 64, 64]", ex.Message);
    }

    [Fact]
    public void Mis_shaped_tensor_is_named()
    {
        var path = Write(TinyLdm.Sd1, tensors => tensors.Select(t => t.Ldm == "model.diffusion_model.middle_block.1.proj_out.weight" ? t with { Shape = [64, 32, 1, 1] } : t).ToList());
        var ex = Refused(path);
        Assert.Contains("model.diffusion_model.middle_block.1.proj_out.weight is [64, 32, 1, 1], expected [64, 64, 1, 1]", ex.Message);
    }

    [Fact]
    public void Ema_flag_with_an_incomplete_EMA_copy_names_the_missing_copy()
    {
        var tensors = LdmCheckpointBuilder.Enumerate(TinyLdm.Sd1);
        var path = temp.File("model.safetensors");
        // One UNet tensor's EMA copy is absent: write the EMA copies of all others as extras.
        var unet = tensors.Where(t => t.Ldm.StartsWith("model.diffusion_model.", StringComparison.Ordinal) && t.Ldm != "model.diffusion_model.out.2.bias");
        LdmCheckpointBuilder.Write(path, tensors, WeightDType.Float32,
            extra: unet.Select(t => ("model_ema." + t.Ldm["model.".Length..].Replace(".", "", StringComparison.Ordinal), t.Shape)));
        var ex = Refused(path, Options(ema: true));
        Assert.Contains("model_ema.diffusion_modelout2bias (the EMA copy of model.diffusion_model.out.2.bias)", ex.Message);
    }
}
