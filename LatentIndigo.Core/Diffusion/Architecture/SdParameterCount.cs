using LatentIndigo.Onnx;

namespace LatentIndigo.Diffusion.Architecture;

/// <summary>
/// The parameters (names and PyTorch shapes) each SD graph uses, and their counts: the graphs are built without reading
/// any weight. The importer checks a checkpoint against these lists before writing anything.
/// </summary>
internal static class SdParameterCount
{
    /// <summary>Parameters of a UNet.</summary>
    public static long Unet(SdUnetConfig config) => Count(UnetParameters(config));

    /// <summary>Parameters of a VAE (encoder, decoder, quant_conv and post_quant_conv).</summary>
    public static long Vae(SdVaeConfig config) => Count(VaeEncoderParameters(config)) + Count(VaeDecoderParameters(config));

    /// <summary>Parameters of a text encoder.</summary>
    public static long Text(ClipTextConfig config) => Count(TextParameters(config));

    /// <summary>The UNet's parameters in diffusers' UNet2DConditionModel names.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> UnetParameters(SdUnetConfig config) =>
        List(l => SdUnetGraph.Build(l, config, "sample", "timestep", "text"));

    /// <summary>The VAE encoder's parameters (encoder.* and quant_conv.*) in diffusers' AutoencoderKL names.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> VaeEncoderParameters(SdVaeConfig config) =>
        List(l => SdVaeGraphs.Encoder(l, config, "image"));

    /// <summary>The VAE decoder's parameters (post_quant_conv.* and decoder.*).</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> VaeDecoderParameters(SdVaeConfig config) =>
        List(l => SdVaeGraphs.Decoder(l, config, "latents"));

    /// <summary>The text encoder's parameters in transformers' CLIPTextModel names.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> TextParameters(ClipTextConfig config) =>
        List(l => ClipTextGraph.Build(l, config, "ids"));

    private static IReadOnlyList<(string Name, long[] Shape)> List(Action<SdGraphLayers> build)
    {
        var layers = new SdGraphLayers(new OnnxGraphBuilder("list"), weights: null);
        build(layers);
        return layers.ParameterList;
    }

    private static long Count(IReadOnlyList<(string Name, long[] Shape)> parameters) =>
        parameters.Sum(p => p.Shape.Aggregate(1L, (n, d) => n * d));
}
