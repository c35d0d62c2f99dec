using DataType = Onnx.TensorProto.Types.DataType;

namespace LatentIndigo.Diffusion.Architecture;

/// <summary>The form of the UNet's <c>timestep</c> input (exporters differ).</summary>
internal enum SdTimestepShape
{
    /// <summary>Rank 0.</summary>
    Scalar,

    /// <summary>Shape [1]: one timestep for the whole batch.</summary>
    Single,

    /// <summary>Shape [batch] (optimum exports).</summary>
    Batch,
}

/// <summary>What the VAE encoder outputs.</summary>
internal enum SdEncoderOutput
{
    /// <summary><c>latent_sample</c>: the posterior mean (deterministic).</summary>
    Mean,

    /// <summary><c>latent_parameters</c>: mean, then log-variance (optimum since Oct 2024).</summary>
    Parameters,

    /// <summary><c>latent_sample</c> drawn in the graph as mean + exp(½·logvar)·ε (older exports).</summary>
    RandomSample,
}

/// <summary>
/// The input/output contract of the four SD models as an exporter writes them; the graphs compute in float32 between
/// conversions at the inputs and outputs, as fp16-I/O exports do.
/// </summary>
/// <param name="TimestepType">Element type of <c>timestep</c>.</param>
/// <param name="TimestepShape">Rank and length of <c>timestep</c>.</param>
/// <param name="EncoderOutput">The VAE encoder's output.</param>
/// <param name="Int64Ids">Text encoder <c>input_ids</c> as int64 (else int32).</param>
/// <param name="ExternalData">Weights in a <c>weights.pb</c> file beside each model.onnx, streamed as they are written.</param>
/// <param name="Float16Weights">Weights stored as float16 (converted to float32 in the graph).</param>
/// <param name="StaticBatch">A fixed batch size (with <paramref name="StaticLatentSize"/>), or null for symbolic sizes.</param>
/// <param name="StaticLatentSize">A fixed latent height and width, or null.</param>
internal sealed record SdExportContract(DataType TimestepType, SdTimestepShape TimestepShape, SdEncoderOutput EncoderOutput, bool Int64Ids,
    bool ExternalData, bool Float16Weights = false, int? StaticBatch = null, int? StaticLatentSize = null);
