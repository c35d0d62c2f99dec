namespace LatentIndigo.Evaluation;

/// <summary>The ground-truth or low-quality images of an evaluation cannot be used as given; the message names the file.</summary>
public sealed class EvaluationInputException(string message) : LatentIndigoException(message);
