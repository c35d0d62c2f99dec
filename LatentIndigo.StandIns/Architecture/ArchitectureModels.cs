using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LatentIndigo.StandIns;

/// <summary>
/// The unet, vae_encoder, vae_decoder and text_encoder models of an architecture stand-in in the export contract the
/// options choose (fp16 or fp32 I/O, timestep form, encoder output, static sizes, int64 ids, external data): the SD
/// graphs compute in float32 between conversions at the inputs and outputs, as fp16-I/O exports do.
/// </summary>
internal static class ArchitectureModels
{
    public static void WriteUnet(StandInOptions o, StandInArchitecture a, string dir, DataType floatType)
    {
        var g = Builder("sd_unet", o, dir);
        var l = new SdGraphLayers(g, a.Seed);
        int c = a.Unet.LatentChannels;
        object batch = o.StaticShape is { } s ? s.Batch : "batch";
        object height = o.StaticShape is { } s2 ? s2.LatentSize : "height";
        object width = o.StaticShape is { } s3 ? s3.LatentSize : "width";
        var sample = g.Input("sample", floatType, batch, c, height, width);
        bool scalar = o.TimestepForm is StandInTimestepForm.ScalarFloat32 or StandInTimestepForm.ScalarInt64;
        var tType = o.TimestepForm switch
        {
            StandInTimestepForm.ScalarInt64 or StandInTimestepForm.BatchInt64 => DataType.Int64,
            StandInTimestepForm.BatchFloat16 => DataType.Float16,
            _ => DataType.Float,
        };
        var timestep = scalar ? g.Input("timestep", tType)
            : o.TimestepForm == StandInTimestepForm.SingleFloat32 ? g.Input("timestep", tType, 1) : g.Input("timestep", tType, batch);
        var text = g.Input("encoder_hidden_states", floatType, batch, o.StaticShape is null ? "sequence" : StandInModelBuilder.SequenceLength, a.Unet.CrossAttentionDim);
        var x = ToFloat(g, sample, floatType);
        // One timestep per batch item: a scalar (or a [1]) is expanded to the batch.
        var t = g.Node("Expand", [g.Node("Reshape", [ToFloat(g, timestep, tType), g.Constant(-1)]),
            g.Node("Shape", [sample], null, OnnxGraphBuilder.Int("start", 0), OnnxGraphBuilder.Int("end", 1))]);
        var output = SdUnetGraph.Build(l, a.Unet, x, t, ToFloat(g, text, floatType));
        FromFloat(g, output, floatType, "out_sample");
        g.Output("out_sample", floatType, batch, c, height, width);
        g.Save(dir);
    }

    public static void WriteVaeEncoder(StandInOptions o, StandInArchitecture a, string dir, DataType floatType)
    {
        var g = Builder("sd_vae_encoder", o, dir);
        var l = new SdGraphLayers(g, a.Seed);
        int c = a.Vae.LatentChannels;
        int factor = 1 << (a.Vae.BlockOutChannels.Length - 1);
        object batch = o.StaticShape is { } s ? s.Batch : "batch";
        object pixels(string n) => o.StaticShape is { } st ? factor * st.LatentSize : n;
        object latent(string n) => o.StaticShape is { } st ? st.LatentSize : n;
        var image = g.Input("sample", floatType, batch, 3, pixels("height"), pixels("width"));
        var moments = SdVaeGraphs.Encoder(l, a.Vae, ToFloat(g, image, floatType));
        string output, name;
        int channels;
        if (o.EncoderOutput == StandInEncoderOutput.LatentParameters)
        {
            (output, name, channels) = (moments, "latent_parameters", 2 * c);
        }
        else
        {
            var mean = g.Node("Slice", [moments, g.Constant(0), g.Constant(c), g.Constant(1)]);
            output = mean;
            if (o.EncoderOutput == StandInEncoderOutput.LatentSampleRandom)
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

    public static void WriteVaeDecoder(StandInOptions o, StandInArchitecture a, string dir, DataType floatType)
    {
        var g = Builder("sd_vae_decoder", o, dir);
        var l = new SdGraphLayers(g, a.Seed);
        int factor = 1 << (a.Vae.BlockOutChannels.Length - 1);
        object batch = o.StaticShape is { } s ? s.Batch : "batch";
        object pixels(string n) => o.StaticShape is { } st ? factor * st.LatentSize : n;
        object latent(string n) => o.StaticShape is { } st ? st.LatentSize : n;
        var z = g.Input("latent_sample", floatType, batch, a.Vae.LatentChannels, latent("latent_height"), latent("latent_width"));
        FromFloat(g, SdVaeGraphs.Decoder(l, a.Vae, ToFloat(g, z, floatType)), floatType, "sample");
        g.Output("sample", floatType, batch, 3, pixels("height"), pixels("width"));
        g.Save(dir);
    }

    public static void WriteTextEncoder(StandInOptions o, StandInArchitecture a, string dir, DataType floatType)
    {
        var g = Builder("clip_text_encoder", o, dir);
        var l = new SdGraphLayers(g, a.Seed);
        var idType = o.TextInputIdsInt64 ? DataType.Int64 : DataType.Int32;
        var ids = o.StaticShape is null ? g.Input("input_ids", idType, "batch", "sequence") : g.Input("input_ids", idType, 1, StandInModelBuilder.SequenceLength);
        var ids64 = idType == DataType.Int64 ? ids : g.Node("Cast", [ids], null, OnnxGraphBuilder.Int("to", (long)DataType.Int64));
        FromFloat(g, ClipTextGraph.Build(l, a.Text, ids64), floatType, "last_hidden_state");
        g.Output("last_hidden_state", floatType, o.StaticShape is null ? "batch" : 1, o.StaticShape is null ? "sequence" : StandInModelBuilder.SequenceLength, a.Text.Hidden);
        g.Save(dir);
    }

    private static OnnxGraphBuilder Builder(string name, StandInOptions o, string dir)
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
