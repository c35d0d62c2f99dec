namespace LatentIndigo.StandIns;

/// <summary>The form of the UNet's <c>timestep</c> input (exporters differ).</summary>
public enum StandInTimestepForm
{
    /// <summary>Rank 0, float32.</summary>
    ScalarFloat32,

    /// <summary>Rank 0, int64.</summary>
    ScalarInt64,

    /// <summary>Shape [batch], float32.</summary>
    BatchFloat32,

    /// <summary>Shape [batch], int64 (optimum exports).</summary>
    BatchInt64,

    /// <summary>Shape [batch], float16 (fp16 exports that keep the timestep in the model's float type).</summary>
    BatchFloat16,

    /// <summary>Shape [1] (a static length of one), float32, with every other size dynamic: one timestep for the whole batch.</summary>
    SingleFloat32,
}

/// <summary>What the VAE encoder outputs.</summary>
public enum StandInEncoderOutput
{
    /// <summary><c>latent_sample</c> with C channels (older diffusers-script exports).</summary>
    LatentSample,

    /// <summary><c>latent_parameters</c> with 2C channels: mean, then log-variance (optimum since Oct 2024).</summary>
    LatentParameters,

    /// <summary>
    /// <c>latent_sample</c> drawn inside the graph as mean + exp(½·logvar)·ε with an unseeded <c>RandomNormalLike</c>
    /// (log-variance −4, so the noise has standard deviation e⁻² ≈ 0.135), as the diffusers script, the Hub's
    /// <c>onnx</c> branches, Olive and optimum before Oct 2024 export it.
    /// </summary>
    LatentSampleRandom,
}

/// <summary>Which diffusers pipeline the folder claims to be (model_index.json <c>_class_name</c> and the UNet's form).</summary>
public enum StandInPipelineKind
{
    /// <summary>Stable Diffusion 1.x / 2.x text-to-image (<c>OnnxStableDiffusionPipeline</c>).</summary>
    StableDiffusion,

    /// <summary>SDXL: the UNet also takes <c>text_embeds</c> and <c>time_ids</c> (<c>ORTStableDiffusionXLPipeline</c>).</summary>
    StableDiffusionXL,

    /// <summary>Inpainting: a 9-channel UNet input (latents, mask, masked-image latents) (<c>OnnxStableDiffusionInpaintPipeline</c>).</summary>
    Inpainting,

    /// <summary>Latent consistency model: the UNet also takes <c>timestep_cond</c>, LCMScheduler (<c>ORTLatentConsistencyModelPipeline</c>).</summary>
    LatentConsistency,
}

/// <summary>Static input sizes for every model, as Olive's fixed-shape and NPU exports declare them.</summary>
/// <param name="Batch">The UNet and VAE batch.</param>
/// <param name="LatentSize">Latent height and width of the UNet and VAE decoder (the encoder takes 8× as many pixels).</param>
public sealed record StandInStaticShape(int Batch, int LatentSize);

/// <summary>One way a stand-in folder can be broken, to exercise each validation error.</summary>
public enum StandInDefect
{
    /// <summary>No <c>unet/model.onnx</c>.</summary>
    MissingUnet,
    /// <summary>No <c>vae_encoder/model.onnx</c>.</summary>
    MissingVaeEncoder,
    /// <summary>No <c>vae_decoder/model.onnx</c>.</summary>
    MissingVaeDecoder,
    /// <summary>No <c>text_encoder/model.onnx</c>.</summary>
    MissingTextEncoder,
    /// <summary>No <c>tokenizer/vocab.json</c> nor <c>merges.txt</c>.</summary>
    MissingTokenizer,
    /// <summary>No <c>scheduler/scheduler_config.json</c>.</summary>
    MissingSchedulerConfig,
    /// <summary><c>unet/model.onnx</c> is not an ONNX model.</summary>
    CorruptUnet,
    /// <summary>The UNet's <c>sample</c> input is called <c>latent</c>.</summary>
    UnetInputRenamed,
    /// <summary>The UNet's output is called <c>noise_pred</c> instead of <c>out_sample</c>.</summary>
    UnetOutputRenamed,
    /// <summary>The UNet's <c>sample</c> has rank 3.</summary>
    UnetSampleRank3,
    /// <summary>The UNet's <c>sample</c> is int32.</summary>
    UnetSampleInt32,
    /// <summary>The UNet's <c>timestep</c> has rank 2.</summary>
    TimestepRank2,
    /// <summary>The UNet's <c>timestep</c> is float64.</summary>
    TimestepFloat64,
    /// <summary>The VAE encoder's output is called <c>latent</c>.</summary>
    EncoderOutputRenamed,
    /// <summary>The VAE encoder takes 1-channel images.</summary>
    EncoderInputChannels1,
    /// <summary><c>latent_parameters</c> has an odd channel count (mean and log-variance cannot be split).</summary>
    EncoderParametersOddChannels,
    /// <summary>The VAE decoder expects one latent channel more than the UNet produces.</summary>
    DecoderChannelMismatch,
    /// <summary>The text encoder's <c>input_ids</c> is float32.</summary>
    TextEncoderFloatIds,
    /// <summary>The text encoder's output is called <c>hidden</c> instead of <c>last_hidden_state</c>.</summary>
    TextEncoderOutputRenamed,
    /// <summary>The text encoder's hidden size differs from the UNet's <c>encoder_hidden_states</c>.</summary>
    HiddenSizeMismatch,
    /// <summary><c>scheduler_config.json</c> has a non-string <c>prediction_type</c>.</summary>
    BadSchedulerConfig,
    /// <summary>The VAE <c>config.json</c> has a non-numeric <c>scaling_factor</c>.</summary>
    BadScalingFactor,
}

/// <summary>
/// Extra compute for a stand-in UNet: a stack of 3×3 convolutions (C→W, <see cref="Depth"/>×(W→W, ReLU), W→C)
/// added to its output, so a step costs about <see cref="FlopsPerStep"/> like a real UNet would.
/// </summary>
public sealed record StandInCost(int Width, int Depth)
{
    /// <summary>Multiply-adds ×2 of the convolution stack for one batch item at a latent size.</summary>
    public double FlopsPerStep(int latentChannels, int latentHeight, int latentWidth) =>
        2.0 * latentHeight * latentWidth * 9 * ((double)latentChannels * Width * 2 + (double)Depth * Width * Width);

    /// <summary>
    /// ≈0.73 TFLOP per 64×64 step (width 320, 96 layers), the order of an SD 1.5 UNet step; ≈350 MB of weights
    /// (use <see cref="StandInOptions.ExternalData"/>). Many seconds per step on a 2-core CPU: meant for GPUs.
    /// </summary>
    public static StandInCost SdLike { get; } = new(320, 96);

    /// <summary>A cost that a 2-core CPU runs in a fraction of a second per 64×64 step (width 128, 4 layers, ≈5 GFLOP).</summary>
    public static StandInCost CpuBenchmark { get; } = new(128, 4);
}

/// <summary>What the stand-in UNet computes.</summary>
public enum StandInUnetBehavior
{
    /// <summary>
    /// out_sample = 0.5·sample + timestep/1000 + mean(encoder_hidden_states[b]): every input visibly reaches the output,
    /// for plumbing checks. Not a denoiser: sampling with it drifts.
    /// </summary>
    Plumbing,

    /// <summary>
    /// The exact ε-predictor for data x0 ~ N(0, I) under the scheduler's schedule: out_sample = √(1−ᾱ_t)·sample
    /// (so ẑ0 = √ᾱ_t·x_t), or 0 with v-prediction. Text is ignored. A real (trivial) diffusion model, so sampling
    /// and guidance behave sensibly.
    /// </summary>
    GaussianDenoiser,
}

/// <summary>What a stand-in Stable Diffusion folder looks like.</summary>
public sealed class StandInOptions
{
    /// <summary>Latent channel count C (SD: 4).</summary>
    public int LatentChannels { get; set; } = 4;

    /// <summary>Declare every float input and output as float16 (computation stays float32 inside).</summary>
    public bool Float16 { get; set; }

    /// <summary>VAE encoder variant.</summary>
    public StandInEncoderOutput EncoderOutput { get; set; } = StandInEncoderOutput.LatentSample;

    /// <summary>Form of the UNet's timestep input.</summary>
    public StandInTimestepForm TimestepForm { get; set; } = StandInTimestepForm.BatchInt64;

    /// <summary>Width of the text embeddings (SD 1.x: 768, 2.x: 1024).</summary>
    public int HiddenSize { get; set; } = 32;

    /// <summary><c>scaling_factor</c> written to the VAE configs; null writes configs without it.</summary>
    public double? ScalingFactor { get; set; } = 0.18215;

    /// <summary>Write no <c>config.json</c> in the model folders (as the diffusers conversion script does).</summary>
    public bool OmitModelConfigs { get; set; }

    /// <summary><c>prediction_type</c> written to the scheduler config.</summary>
    public string PredictionType { get; set; } = "epsilon";

    /// <summary>What the UNet computes (default <see cref="StandInUnetBehavior.Plumbing"/>).</summary>
    public StandInUnetBehavior UnetBehavior { get; set; } = StandInUnetBehavior.Plumbing;

    /// <summary>Optional convolution stack that gives the UNet a realistic cost.</summary>
    public StandInCost? Cost { get; set; }

    /// <summary>
    /// Extra compute for the VAE encoder and decoder (a convolution stack at latent resolution, scaled by 1e-3 into
    /// the result), so pipeline benchmarks see a VAE share; null (default) keeps the VAE exactly linear.
    /// </summary>
    public StandInCost? VaeCost { get; set; }

    /// <summary>Store the UNet's and VAE encoder's large weights (≥ 1 KB) in external-data files (<c>unet/weights.pb</c>, <c>vae_encoder/weights.pb</c>).</summary>
    public bool ExternalData { get; set; }

    /// <summary>Declare the text encoder's <c>input_ids</c> as int64 instead of int32.</summary>
    public bool TextInputIdsInt64 { get; set; }

    /// <summary>Declare every latent channel dimension symbolically (with <see cref="OmitModelConfigs"/> nothing states C).</summary>
    public bool SymbolicChannels { get; set; }

    /// <summary>With <see cref="Float16"/>: keep <c>vae_decoder</c> in float32, as ORT-optimised fp16 folders may (a mixed folder).</summary>
    public bool Float32VaeDecoder { get; set; }

    /// <summary>Give the UNet a <c>com.microsoft</c> fused op that only CUDA/DirectML implement (an ORT-optimised fp16 export).</summary>
    public bool CudaOnlyFusedOp { get; set; }

    /// <summary>Static input sizes (null: symbolic batch and spatial sizes).</summary>
    public StandInStaticShape? StaticShape { get; set; }

    /// <summary>Write SD 2.x's tokenizer files, whose <c>pad_token</c> is <c>!</c> (id 0), instead of SD 1.x's.</summary>
    public bool Sd2Tokenizer { get; set; }

    /// <summary>The pipeline the folder claims to be, with the matching UNet form.</summary>
    public StandInPipelineKind Pipeline { get; set; } = StandInPipelineKind.StableDiffusion;

    /// <summary><c>clip_sample</c> written to the scheduler config (SD exports say false; DDIM's own default is true).</summary>
    public bool SchedulerClipSample { get; set; }

    /// <summary><c>steps_offset</c> written to the scheduler config (SD exports say 1).</summary>
    public int SchedulerStepsOffset { get; set; } = 1;

    /// <summary><c>sample_size</c> written to <c>unet/config.json</c> (SD 1.x / 2.x base: 64; SD 2.x 768-v: 96).</summary>
    public int UnetSampleSize { get; set; } = 64;

    /// <summary>Number of entries of the VAE configs' <c>block_out_channels</c> (the VAE downscales by 2^(n−1); SD: 4).</summary>
    public int VaeBlocks { get; set; } = 4;

    /// <summary>Replace the text of these config files (paths relative to the folder, e.g. <c>unet/config.json</c>) with invalid JSON.</summary>
    public IReadOnlyCollection<string> CorruptConfigs { get; set; } = [];

    /// <summary>
    /// Build the unet, VAE and text encoder with Stable Diffusion's real architecture (random weights) instead of the
    /// simple known functions; <see cref="LatentChannels"/> and <see cref="HiddenSize"/> then come from it, and
    /// <see cref="Cost"/>, <see cref="VaeCost"/>, <see cref="UnetBehavior"/>, <see cref="CudaOnlyFusedOp"/>,
    /// <see cref="Pipeline"/>, <see cref="SymbolicChannels"/> and the defects do not apply. Full-size
    /// architectures need <see cref="ExternalData"/>.
    /// </summary>
    internal StandInArchitecture? Architecture { get; set; }

    /// <summary>Defects to build in (empty: a valid folder).</summary>
    public IReadOnlyCollection<StandInDefect> Defects { get; set; } = [];
}
