using Google.Protobuf;
using Onnx;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Finds the sampling head of a <c>latent_sample</c> VAE encoder (diffusers' <c>latent_dist.sample()</c> exported as
/// mean + std·<c>RandomNormalLike</c>, unseeded) and rewrites the graph so the noise is zero: each
/// <c>RandomNormalLike(x)</c> becomes <c>Sub(x, x)</c>, which has x's shape and element type and is exactly 0 for
/// finite x, so the encoder returns the posterior mean.
/// </summary>
internal static class EncoderSampling
{
    private const string NoiseOp = "RandomNormalLike";

    // Random operators that are not rewritten (their output shape or type cannot be reproduced without inference).
    private static readonly string[] OtherRandomOps = ["RandomNormal", "RandomUniform", "RandomUniformLike", "Multinomial", "Bernoulli"];

    /// <summary>What <see cref="Inspect"/> found.</summary>
    /// <param name="NoiseNodes">Number of <c>RandomNormalLike</c> nodes.</param>
    /// <param name="OtherRandomNodes">Op types of other random nodes (left as they are).</param>
    /// <param name="DeterministicModel">The rewritten model (null when nothing was rewritten).</param>
    public sealed record Result(int NoiseNodes, IReadOnlyList<string> OtherRandomNodes, byte[]? DeterministicModel);

    /// <summary>
    /// Reads the model at <paramref name="path"/> and, when <paramref name="rewrite"/> is set and it has
    /// <c>RandomNormalLike</c> nodes, returns the serialised deterministic model.
    /// </summary>
    public static Result Inspect(string path, bool rewrite)
    {
        ModelProto model;
        using (var stream = File.OpenRead(path))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }
        int noise = 0;
        var others = new List<string>();
        var graphs = new List<GraphProto>();
        Collect(model.Graph, graphs);
        foreach (var graph in graphs)
        {
            for (int i = 0; i < graph.Node.Count; i++)
            {
                var node = graph.Node[i];
                if (node.Domain is not ("" or "ai.onnx"))
                {
                    continue;
                }
                if (node.OpType == NoiseOp)
                {
                    noise++;
                    if (rewrite && ZeroNoise(node) is { } cast)
                    {
                        graph.Node.Insert(++i, cast);
                    }
                }
                else if (OtherRandomOps.Contains(node.OpType))
                {
                    others.Add(node.OpType);
                }
            }
        }
        return new Result(noise, others, rewrite && noise > 0 ? model.ToByteArray() : null);
    }

    // Turns the node into Sub(x, x); returns a Cast to append when the node named an explicit output dtype.
    private static NodeProto? ZeroNoise(NodeProto node)
    {
        var input = node.Input[0];
        long? dtype = node.Attribute.FirstOrDefault(a => a.Name == "dtype")?.I;
        var name = (node.Name.Length > 0 ? node.Name : NoiseOp) + "_zeroed_by_LatentIndigo";
        node.OpType = "Sub";
        node.Name = name;
        node.Input.Clear();
        node.Input.Add(input);
        node.Input.Add(input);
        node.Attribute.Clear();
        if (dtype is not { } type)
        {
            return null;
        }
        // The dtype attribute may differ from the input's type: cast the zeros to it (a no-op when they agree).
        var output = node.Output[0];
        node.Output[0] = output + "_zeros";
        return new NodeProto
        {
            OpType = "Cast",
            Name = name + "_cast",
            Input = { node.Output[0] },
            Output = { output },
            Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = type } },
        };
    }

    private static void Collect(GraphProto graph, List<GraphProto> all)
    {
        all.Add(graph);
        foreach (var node in graph.Node)
        {
            foreach (var a in node.Attribute)
            {
                if (a.G is { } g)
                {
                    Collect(g, all);
                }
                foreach (var sub in a.Graphs)
                {
                    Collect(sub, all);
                }
            }
        }
    }
}
