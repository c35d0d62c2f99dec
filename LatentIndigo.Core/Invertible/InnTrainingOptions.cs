namespace LatentIndigo.Invertible;

/// <summary>
/// Settings of <see cref="InnTrainer"/>. Defaults suit a CPU: 128-pixel crops, batch 8, Adam with a short warm-up and a
/// cosine decay. The INDIGO+-style recipe (algorithm.md §3) used lr 1e-5, betas (0.9, 0.99), weight decay 1e-3.
/// </summary>
public sealed record InnTrainingOptions
{
    /// <summary>Optimiser steps to train for (in total, counting steps done before a resume).</summary>
    public int Steps { get; init; } = 2000;

    /// <summary>Crops per step.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Side of the square high-quality crops; must be a multiple of the INN's and the degradation's factor.</summary>
    public int CropSize { get; init; } = 128;

    /// <summary>Peak Adam learning rate.</summary>
    public double LearningRate { get; init; } = 5e-4;

    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double MinLearningRate { get; init; } = 1e-5;

    /// <summary>Steps of linear warm-up from 0 to <see cref="LearningRate"/>.</summary>
    public int WarmupSteps { get; init; } = 50;

    /// <summary>Adam β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam β2.</summary>
    public double Beta2 { get; init; } = 0.99;

    /// <summary>Adam weight decay (L2, PyTorch's Adam convention).</summary>
    public double WeightDecay { get; init; }

    /// <summary>
    /// The learning rate of an attached degradation encoder (<see cref="LiftingInn.Encoder"/>) as a multiple of the
    /// INN's (default 1), in joint training and in <see cref="InnTrainer.PretrainEncoder"/>. Measured on the 700-step
    /// mixture recipe of docs/inn-training.md, after pre-training: 1× gained in all three seeds tried (most steadily
    /// under Real-ESRGAN degradations, +0.7 to +1.1 dB); 3× gained in one of two seeds and nothing in the other, where
    /// γ's tanh saturated; 10× saturated and gained nothing.
    /// </summary>
    public double EncoderLearningRateScale { get; init; } = 1;

    /// <summary>Random horizontal/vertical flips and 90° rotations of the crops.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Round the degraded targets to 8-bit levels in [0,1], as a saved low-quality image would be.</summary>
    public bool QuantizeTargets { get; init; }

    /// <summary>
    /// When training from scratch, start from the plain polyphase split (zero output convolutions) rather than random
    /// weights: every lifting step starts exact and the loss starts at the aliasing error of plain subsampling.
    /// </summary>
    public bool StartFromLazyWavelet { get; init; } = true;

    /// <summary>Run validation every this many steps (and at the end); 0 = only at the end.</summary>
    public int ValidateEvery { get; init; } = 250;

    /// <summary>Write a checkpoint every this many steps (and at the end) when <see cref="CheckpointPath"/> is set.</summary>
    public int CheckpointEvery { get; init; } = 250;

    /// <summary>
    /// Checkpoint file: one file, replaced atomically, with the network, the optimiser and random state, the step and the
    /// run's recorded settings (docs/reliability.md). Temporary files of interrupted writes are removed at the start.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// Resume from the checkpoint at <see cref="CheckpointPath"/> when it exists: the result is the bytes of one
    /// uninterrupted run. A checkpoint of other settings or images is refused (<see cref="InnCheckpointMismatchException"/>).
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>Report progress every this many steps.</summary>
    public int ReportEvery { get; init; } = 10;

    /// <summary>Seed for crops, augmentation and random degradations.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws <see cref="InvalidInnOptionsException"/> naming every value out of range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Steps < 1) problems.Add($"Steps = {Steps} (must be ≥ 1)");
        if (BatchSize < 1 || BatchSize > 1024) problems.Add($"BatchSize = {BatchSize} (must be 1..1024)");
        if (CropSize < 8 || CropSize > 4096) problems.Add($"CropSize = {CropSize} (must be 8..4096)");
        if (!(LearningRate > 0) || LearningRate > 1) problems.Add($"LearningRate = {LearningRate} (must be in (0,1])");
        if (!(MinLearningRate >= 0) || MinLearningRate > LearningRate) problems.Add($"MinLearningRate = {MinLearningRate} (must be in [0, LearningRate])");
        if (WarmupSteps < 0) problems.Add($"WarmupSteps = {WarmupSteps} (must be ≥ 0)");
        if (!(Beta1 >= 0 && Beta1 < 1)) problems.Add($"Beta1 = {Beta1} (must be in [0,1))");
        if (!(Beta2 >= 0 && Beta2 < 1)) problems.Add($"Beta2 = {Beta2} (must be in [0,1))");
        if (!(WeightDecay >= 0)) problems.Add($"WeightDecay = {WeightDecay} (must be ≥ 0)");
        if (!(EncoderLearningRateScale > 0) || EncoderLearningRateScale > 1e4) problems.Add($"EncoderLearningRateScale = {EncoderLearningRateScale} (must be in (0, 10000])");
        if (ValidateEvery < 0) problems.Add($"ValidateEvery = {ValidateEvery} (must be ≥ 0)");
        if (CheckpointEvery < 1) problems.Add($"CheckpointEvery = {CheckpointEvery} (must be ≥ 1)");
        if (ReportEvery < 1) problems.Add($"ReportEvery = {ReportEvery} (must be ≥ 1)");
        if (Resume && CheckpointPath is null) problems.Add("Resume needs a CheckpointPath");
        if (problems.Count > 0)
        {
            throw new InvalidInnOptionsException("Invalid InnTrainingOptions: " + string.Join("; ", problems) + ".");
        }
    }

    /// <summary>Learning rate at a 0-based step: linear warm-up, then cosine decay to <see cref="MinLearningRate"/>.</summary>
    public double LearningRateAt(int step)
    {
        if (step < WarmupSteps)
        {
            return LearningRate * (step + 1) / WarmupSteps;
        }
        double span = Math.Max(1, Steps - WarmupSteps);
        double t = Math.Clamp((step - WarmupSteps) / span, 0, 1);
        return MinLearningRate + 0.5 * (LearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * t));
    }
}
