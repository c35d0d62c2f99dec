namespace LatentIndigo.Invertible;

/// <summary>A progress report of <see cref="InnTrainer"/>.</summary>
/// <param name="Step">Steps done so far (1-based after the first step).</param>
/// <param name="TotalSteps">Steps to do in total.</param>
/// <param name="Loss">Mean training loss (MSE of coarse vs. degraded) over the steps since the last report.</param>
/// <param name="LearningRate">Learning rate of the last step.</param>
/// <param name="ValidationPsnr">Mean coarse-vs-true-LQ PSNR (dB) when this report follows a validation, else null.</param>
/// <param name="Elapsed">Wall time since training (or the resumed run) started.</param>
public sealed record InnTrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate, double? ValidationPsnr, TimeSpan Elapsed);

/// <summary>What <see cref="InnTrainer.Train"/> did.</summary>
/// <param name="Steps">Total steps done (counting steps before a resume).</param>
/// <param name="FinalLoss">Mean loss over the last report interval.</param>
/// <param name="ValidationPsnr">Final mean validation PSNR in dB, or null without a validation set.</param>
/// <param name="Elapsed">Wall time of this run.</param>
/// <param name="LossHistory">(step, mean loss) at every report.</param>
public sealed record InnTrainingResult(int Steps, double FinalLoss, double? ValidationPsnr, TimeSpan Elapsed, IReadOnlyList<(int Step, double Loss)> LossHistory);
