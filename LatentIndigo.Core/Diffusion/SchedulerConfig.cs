using System.Globalization;
using System.Text.Json;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The noise schedule and sampling conventions of a diffusion model, as in diffusers' <c>scheduler_config.json</c>.
/// The defaults are those of Stable Diffusion 1.x / 2.x base (ε-prediction, scaled-linear β 0.00085→0.012,
/// leading spacing, steps_offset 1, set_alpha_to_one false, no clipping): load the export's file with
/// <see cref="FromFile"/> rather than relying on them.
/// </summary>
public sealed class SchedulerConfig
{
    /// <summary>Number of training timesteps T (diffusers <c>num_train_timesteps</c>).</summary>
    public int NumTrainTimesteps { get; set; } = 1000;

    /// <summary>First β (diffusers <c>beta_start</c>).</summary>
    public double BetaStart { get; set; } = 0.00085;

    /// <summary>Last β (diffusers <c>beta_end</c>).</summary>
    public double BetaEnd { get; set; } = 0.012;

    /// <summary>How β is spaced (diffusers <c>beta_schedule</c>).</summary>
    public BetaSchedule BetaSchedule { get; set; } = BetaSchedule.ScaledLinear;

    /// <summary>What the model predicts (diffusers <c>prediction_type</c>).</summary>
    public PredictionType PredictionType { get; set; } = PredictionType.Epsilon;

    /// <summary>How inference timesteps are chosen (diffusers <c>timestep_spacing</c>).</summary>
    public TimestepSpacing TimestepSpacing { get; set; } = TimestepSpacing.Leading;

    /// <summary>Offset added to every inference timestep with leading spacing (diffusers <c>steps_offset</c>).</summary>
    public int StepsOffset { get; set; } = 1;

    /// <summary>
    /// DDIM: use ᾱ = 1 for the step after the last timestep (true) or ᾱ_0 (false) (diffusers <c>set_alpha_to_one</c>).
    /// </summary>
    public bool SetAlphaToOne { get; set; }

    /// <summary>Clamp the predicted x0 to ±<see cref="ClipSampleRange"/> (diffusers <c>clip_sample</c>).</summary>
    public bool ClipSample { get; set; }

    /// <summary>Clamp bound used when <see cref="ClipSample"/> is on (diffusers <c>clip_sample_range</c>).</summary>
    public double ClipSampleRange { get; set; } = 1.0;

    /// <summary>Rescale β so the last timestep has zero SNR (diffusers <c>rescale_betas_zero_snr</c>).</summary>
    public bool RescaleBetasZeroSnr { get; set; }

    /// <summary>Explicit β values (diffusers <c>trained_betas</c>); when set, overrides the schedule.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; set; }

    /// <summary>The diffusers class named in the file (<c>_class_name</c>), for logging; null when built in code.</summary>
    public string? ClassName { get; set; }

    /// <summary>A copy, so a sampler never sees later edits of the caller's object.</summary>
    public SchedulerConfig Clone() => (SchedulerConfig)MemberwiseClone();

    /// <summary>Reads <c>scheduler/scheduler_config.json</c> (unknown keys are ignored, missing keys keep the defaults).</summary>
    public static SchedulerConfig FromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new LatentIndigoException($"Scheduler config '{path}' does not exist; an SD export has it at scheduler/scheduler_config.json.");
        }
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (LatentIndigoException e)
        {
            throw new LatentIndigoException($"Scheduler config '{path}': {e.Message}", e);
        }
    }

    /// <summary>Parses the JSON text of a diffusers scheduler config.</summary>
    public static SchedulerConfig Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new LatentIndigoException($"not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new LatentIndigoException("expected a JSON object with diffusers scheduler settings.");
            }
            var c = new SchedulerConfig();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                var v = p.Value;
                if (v.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }
                switch (p.Name)
                {
                    case "_class_name": c.ClassName = Str(v, p.Name); break;
                    case "num_train_timesteps": c.NumTrainTimesteps = Int(v, p.Name); break;
                    case "beta_start": c.BetaStart = Double(v, p.Name); break;
                    case "beta_end": c.BetaEnd = Double(v, p.Name); break;
                    case "beta_schedule": c.BetaSchedule = new BetaSchedule(Str(v, p.Name)); break;
                    case "prediction_type": c.PredictionType = new PredictionType(Str(v, p.Name)); break;
                    case "timestep_spacing": c.TimestepSpacing = new TimestepSpacing(Str(v, p.Name)); break;
                    case "steps_offset": c.StepsOffset = Int(v, p.Name); break;
                    case "set_alpha_to_one": c.SetAlphaToOne = Bool(v, p.Name); break;
                    case "clip_sample": c.ClipSample = Bool(v, p.Name); break;
                    case "clip_sample_range": c.ClipSampleRange = Double(v, p.Name); break;
                    case "rescale_betas_zero_snr": c.RescaleBetasZeroSnr = Bool(v, p.Name); break;
                    case "trained_betas":
                        if (v.ValueKind != JsonValueKind.Array)
                        {
                            throw new LatentIndigoException("'trained_betas' must be an array of numbers or null.");
                        }
                        c.TrainedBetas = v.EnumerateArray().Select(e => Double(e, p.Name)).ToArray();
                        break;
                }
            }
            c.Validate();
            return c;
        }
    }

    /// <summary>Throws <see cref="LatentIndigoException"/> when a value is out of range.</summary>
    public void Validate()
    {
        if (NumTrainTimesteps < 2 || NumTrainTimesteps > 100_000)
        {
            throw new LatentIndigoException($"num_train_timesteps = {NumTrainTimesteps} is outside 2..100000.");
        }
        if (TrainedBetas is null && !(BetaStart > 0 && BetaEnd >= BetaStart && BetaEnd < 1))
        {
            throw new LatentIndigoException($"beta_start = {BetaStart} and beta_end = {BetaEnd} must satisfy 0 < beta_start <= beta_end < 1.");
        }
        if (TrainedBetas is not null && TrainedBetas.Count != NumTrainTimesteps)
        {
            throw new LatentIndigoException($"trained_betas has {TrainedBetas.Count} values but num_train_timesteps is {NumTrainTimesteps}.");
        }
        if (StepsOffset < 0 || StepsOffset >= NumTrainTimesteps)
        {
            throw new LatentIndigoException($"steps_offset = {StepsOffset} must lie in 0..num_train_timesteps-1.");
        }
        if (!(ClipSampleRange > 0) || double.IsInfinity(ClipSampleRange))
        {
            throw new LatentIndigoException($"clip_sample_range = {ClipSampleRange} must be a positive number.");
        }
    }

    private static int Int(JsonElement v, string name) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)
            ? i
            : throw new LatentIndigoException($"'{name}' must be an integer, found {v.GetRawText()}.");

    private static double Double(JsonElement v, string name) =>
        v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new LatentIndigoException($"'{name}' must be a number, found {v.GetRawText()}.");

    private static bool Bool(JsonElement v, string name) =>
        v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : throw new LatentIndigoException($"'{name}' must be true or false, found {v.GetRawText()}.");

    private static string Str(JsonElement v, string name) =>
        v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new LatentIndigoException($"'{name}' must be a string, found {v.GetRawText()}.");

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"T={NumTrainTimesteps}, beta {BetaSchedule} {BetaStart}..{BetaEnd}, {PredictionType}, spacing {TimestepSpacing}, steps_offset {StepsOffset}, set_alpha_to_one {SetAlphaToOne}, clip_sample {ClipSample}");
}
