using LatentIndigo.Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LatentIndigo.Diffusion.Architecture;

/// <summary>
/// Writes the unet, vae_encoder, vae_decoder and text_encoder models of the SD architecture, with the weights of an
/// <see cref="ISdWeights"/>, in an export contract (fp16 or fp32 I/O, timestep form, encoder output, static sizes,
/// int64 ids, external data): the graphs compute in float32 between conversions at the inputs and outputs, as fp16-I/O
/// exports do. The stand-ins fill them with random weights, the importer with a checkpoint's.
/// </summary>
internal static class ArchitectureModels
{
    public static void WriteUnet(SdExportContract o, SdUnetConfig unet, int sequenceLength, ISdWeights weights, string dir, DataType floatType)
    {
        var g = Builder("sd_unet", o, dir);
        var l = new SdGraphLayers(g, weights, o.Float16Weights);
        int c = unet.LatentChannels;
        object batch = o.StaticBatch is { } s ? s : "batch";
        object height = o.StaticLatentSize is { } s2 ? s2 : "height";
        object width = o.StaticLatentSize is { } s3 ? s3 : "width";
        var sample = g.Input("sample", floatType, batch, c, height, width);
        var tType = o.TimestepType;
        var timestep = o.TimestepShape switch
        {
            SdTimestepShape.Scalar => g.Input("timestep", tType),
            SdTimestepShape.Single => g.Input("timestep", tType, 1),
            _ => g.Input("timestep", tType, batch),
        };
        var text = g.Input("encoder_hidden_states", floatType, batch, o.StaticBatch is null ? "sequence" : sequenceLength, unet.CrossAttentionDim);
        var x = ToFloat(g, sample, floatType);
        // One timestep per batch item: a scalar (or a [1]) is expanded to the batch.
        var t = g.Node("Expand", [g.Node("Reshape", [ToFloat(g, timestep, tType), g.Constant(-1)]),
            g.Node("Shape", [sample], null, OnnxGraphBuilder.Int("start", 0), OnnxGraphBuilder.Int("end", 1))]);
        var output = SdUnetGraph.Build(l, unet, x, t, ToFloat(g, text, floatType));
        FromFloat(g, output, floatType, "out_sample");
        g.Output("out_sample", floatType, batch, c, height, width);
        g.Save(dir);
    }

    public static void WriteVaeEncoder(SdExportContract o, SdVaeConfig vae, ISdWeights weights, string dir, DataType floatType)
    {
        var g = Builder("sd_vae_encoder", o, dir);
        var l = new SdGraphLayers(g, weights, o.Float16Weights);
        int c = vae.LatentChannels;
        int factor = vae.DownscaleFactor;
        object batch = o.StaticBatch is { } s ? s : "batch";
        object pixels(string n) => o.StaticLatentSize is { } st ? factor * st : n;
        object latent(string n) => o.StaticLatentSize is { } st ? st : n;
        var image = g.Input("sample", floatType, batch, 3, pixels("height"), pixels("width"));
        var moments = SdVaeGraphs.Encoder(l, vae, ToFloat(g, image, floatType));
        string output, name;
        int channels;
        if (o.EncoderOutput == SdEncoderOutput.Parameters)
        {
            (output, name, channels) = (moments, "latent_parameters", 2 * c);
        }
        else
        {
            var mean = g.Node("Slice", [moments, g.Constant(0), g.Constant(c), g.Constant(1)]);
            output = mean;
            if (o.EncoderOutput == SdEncoderOutput.RandomSample)
            {
                // diffusers' DiagonalGaussianDistribution: log-variance clamped to [−30, 20], std = exp(½·logvar).
                var logvar = g.Node("Clip", [g.Node("Slice", [moments, g.Constant(c), g.Constant(2 * c), g.Constant(1)]), g.Constant([-30f], []), g.Constant([20f], [])]);
                var std = g.Node("Exp", [g.Node("Mul", [logvar, g.Constant([0.5f], 1)])]);
                output = g.Node("Add", [mean, g.Node("Mul", [std, g.Node("RandomNormalLike", [mean])])]);
            }
            (name, channels) = ("latent_sample", c);
        }
        FromFloat(g, output, floatType, name);
        g.Output(name, floatType, batch, channels, latent("latent_height"), latent("latent_width"));
        g.Save(dir);
    }

    public static void WriteVaeDecoder(SdExportContract o, SdVaeConfig vae, ISdWeights weights, string dir, DataType floatType)
    {
        var g = Builder("sd_vae_decoder", o, dir);
        var l = new SdGraphLayers(g, weights, o.Float16Weights);
        int factor = vae.DownscaleFactor;
        object batch = o.StaticBatch is { } s ? s : "batch";
        object pixels(string n) => o.StaticLatentSize is { } st ? factor * st : n;
        object latent(string n) => o.StaticLatentSize is { } st ? st : n;
        var z = g.Input("latent_sample", floatType, batch, vae.LatentChannels, latent("latent_height"), latent("latent_width"));
        FromFloat(g, SdVaeGraphs.Decoder(l, vae, ToFloat(g, z, floatType)), floatType, "sample");
        g.Output("sample", floatType, batch, 3, pixels("height"), pixels("width"));
        g.Save(dir);
    }

    public static void WriteTextEncoder(SdExportContract o, ClipTextConfig text, ISdWeights weights, string dir, DataType floatType)
    {
        var g = Builder("clip_text_encoder", o, dir);
        var l = new SdGraphLayers(g, weights, o.Float16Weights);
        var idType = o.Int64Ids ? DataType.Int64 : DataType.Int32;
        bool dynamic = o.StaticBatch is null;
        var ids = dynamic ? g.Input("input_ids", idType, "batch", "sequence") : g.Input("input_ids", idType, 1, text.MaxPositions);
        var ids64 = idType == DataType.Int64 ? ids : g.Node("Cast", [ids], null, OnnxGraphBuilder.Int("to", (long)DataType.Int64));
        FromFloat(g, ClipTextGraph.Build(l, text, ids64), floatType, "last_hidden_state");
        g.Output("last_hidden_state", floatType, dynamic ? "batch" : 1, dynamic ? "sequence" : text.MaxPositions, text.Hidden);
        g.Save(dir);
    }

    private static OnnxGraphBuilder Builder(string name, SdExportContract o, string dir)
    {
        var g = new OnnxGraphBuilder(name);
        if (o.ExternalData)
        {
            g.UseExternalDataFile(dir);
        }
        return g;
    }

    private static string ToFloat(OnnxGraphBuilder g, string input, DataType type) =>
        type == DataType.Float ? input : g.Node("Cast", [input], null, OnnxGraphBuilder.Int("to", (long)DataType.Float));

    private static void FromFloat(OnnxGraphBuilder g, string input, DataType type, string output) =>
        g.Node(type == DataType.Float ? "Identity" : "Cast", [input], output,
            type == DataType.Float ? [] : [OnnxGraphBuilder.Int("to", (long)type)]);
}
