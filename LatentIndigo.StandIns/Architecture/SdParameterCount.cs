namespace LatentIndigo.StandIns;

/// <summary>Parameter counts of the architecture stand-ins (the graphs are built without drawing any weight).</summary>
public static class SdParameterCount
{
    /// <summary>Parameters of a UNet.</summary>
    public static long Unet(SdUnetConfig config) => Count(l => SdUnetGraph.Build(l, config, "sample", "timestep", "text"));

    /// <summary>Parameters of a VAE (encoder, decoder, quant_conv and post_quant_conv).</summary>
    public static long Vae(SdVaeConfig config) => Count(l => SdVaeGraphs.Encoder(l, config, "image")) + Count(l => SdVaeGraphs.Decoder(l, config, "latents"));

    /// <summary>Parameters of a text encoder.</summary>
    public static long Text(ClipTextConfig config) => Count(l => ClipTextGraph.Build(l, config, "ids"));

    private static long Count(Action<SdGraphLayers> build)
    {
        var layers = new SdGraphLayers(new OnnxGraphBuilder("count"), seed: 0, countOnly: true);
        build(layers);
        return layers.Parameters;
    }
}
