using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Evaluation;

/// <summary>
/// A perceptual metric from an ONNX model the user brings (for example LPIPS exported from PyTorch). The model takes two
/// float32 inputs, in graph order the output and the reference image, each <c>[1,3,H,W]</c> RGB scaled to [-1,1] (the
/// LPIPS convention; pass <c>inputRange: (0, 1)</c> for models that take [0,1]); the metric is the mean of its first output.
/// </summary>
public sealed class OnnxPerceptualMetric : IPerceptualMetric, IDisposable
{
    private readonly InferenceSession session;
    private readonly string[] inputNames;
    private readonly string outputName;
    private readonly (float Low, float High) range;

    /// <summary>Loads the model on the CPU.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="name">The column name in reports (default: the file name without extension, e.g. <c>lpips</c>).</param>
    /// <param name="inputRange">The value range the model expects for images (default [-1,1]).</param>
    /// <exception cref="EvaluationInputException">The file is missing, not an ONNX model, or does not take two inputs.</exception>
    public OnnxPerceptualMetric(string modelPath, string? name = null, (float Low, float High)? inputRange = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        if (!File.Exists(modelPath))
        {
            throw new EvaluationInputException($"The perceptual metric model '{modelPath}' does not exist.");
        }
        try
        {
            session = new InferenceSession(modelPath);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new EvaluationInputException($"The perceptual metric model '{modelPath}' cannot be loaded by ONNX Runtime: {ex.Message}");
        }
        inputNames = session.InputNames.ToArray();
        if (inputNames.Length != 2 || session.OutputNames.Count == 0)
        {
            session.Dispose();
            throw new EvaluationInputException(
                $"The perceptual metric model '{modelPath}' has {inputNames.Length} input(s) and {session.OutputNames.Count} output(s); it needs two image inputs (output, reference) and one output.");
        }
        outputName = session.OutputNames[0];
        range = inputRange ?? (-1f, 1f);
        Name = name ?? Path.GetFileNameWithoutExtension(modelPath);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public double Compute(Tensor output, Tensor reference)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(reference);
        using var a = OrtInput(output);
        using var b = OrtInput(reference);
        using var results = session.Run(new RunOptions(), inputNames, new[] { a, b }, new[] { outputName });
        var values = results[0].GetTensorDataAsSpan<float>();
        double sum = 0;
        foreach (var v in values)
        {
            sum += v;
        }
        return values.Length == 0 ? double.NaN : sum / values.Length;
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();

    private OrtValue OrtInput(Tensor image)
    {
        using var scope = torch.NewDisposeScope();
        var scaled = image.detach().to(DeviceType.CPU).to(ScalarType.Float32).clamp(0f, 1f) * (range.High - range.Low) + range.Low;
        var shape = scaled.shape;
        return OrtValue.CreateTensorValueFromMemory(scaled.contiguous().data<float>().ToArray(), shape);
    }
}
