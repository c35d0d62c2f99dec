namespace LatentIndigo.Guidance;

/// <summary>The numbers a guidance is built with for one restore (taken from the restore's options).</summary>
/// <param name="StepSize">Guidance step size s.</param>
/// <param name="CoarseWeight">w0, the weight of ‖y − coarse‖.</param>
/// <param name="ConsistencyWeight">w1, the weight of ‖x_inv − x‖².</param>
/// <param name="RefinementStepsPerCall">Adam steps of blind refinement per guided call (when a refiner is given).</param>
public sealed record GuidanceSettings(double StepSize, double CoarseWeight, double ConsistencyWeight, int RefinementStepsPerCall);
