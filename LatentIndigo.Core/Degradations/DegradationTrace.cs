using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>One operator applied to one image, with the parameters it used (drawn or fixed).</summary>
/// <param name="Operator">The operator's name, e.g. <c>gauss</c>, <c>jpeg</c> or <c>realesrgan.resize1</c>.</param>
/// <param name="Parameters">
/// Parameter names and values: numbers (<see cref="int"/>, <see cref="double"/>), <see cref="bool"/>,
/// <see cref="string"/> or arrays of numbers. Values are the exact ones used, so the step can be reproduced.
/// </param>
public sealed record DegradationStep(string Operator, IReadOnlyDictionary<string, object> Parameters);

/// <summary>
/// Records, per image of a batch, the steps a degradation applied and the parameters it drew. The <c>degrade</c>
/// command writes it as the JSON sidecar of each output image.
/// </summary>
public sealed class DegradationTrace
{
    private readonly List<DegradationStep>[] images;

    /// <summary>Creates an empty trace for a batch of <paramref name="imageCount"/> images.</summary>
    public DegradationTrace(int imageCount)
    {
        if (imageCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(imageCount), imageCount, "A trace needs at least one image.");
        }
        images = new List<DegradationStep>[imageCount];
        for (var i = 0; i < imageCount; i++)
        {
            images[i] = [];
        }
    }

    /// <summary>Number of images this trace describes (the batch size).</summary>
    public int ImageCount => images.Length;

    /// <summary>The steps applied to image <paramref name="image"/> of the batch, in order.</summary>
    public IReadOnlyList<DegradationStep> StepsOf(int image) => images[image];

    /// <summary>Appends a step to one image.</summary>
    public void Add(int image, DegradationStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        images[image].Add(step);
    }

    /// <summary>Appends the same step to every image (for deterministic operators).</summary>
    public void AddToAll(DegradationStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        foreach (var list in images)
        {
            list.Add(step);
        }
    }

    /// <summary>
    /// Applies <paramref name="model"/> and records what it did: built-in operators record their parameters; any other
    /// <see cref="IDegradationModel"/> is recorded by its spec string.
    /// </summary>
    public static Tensor ApplyTraced(IDegradationModel model, Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is DegradationModel builtIn)
        {
            return builtIn.Apply(batch, generator, trace);
        }
        var result = model.Apply(batch, generator);
        trace?.AddToAll(new DegradationStep(model.Spec, new Dictionary<string, object>()));
        return result;
    }
}
