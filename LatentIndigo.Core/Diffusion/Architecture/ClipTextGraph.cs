using LatentIndigo.Onnx;

namespace LatentIndigo.Diffusion.Architecture;

/// <summary>
/// Builds a CLIP-style causal text encoder graph (written from the published architecture): token + position
/// embeddings, pre-LayerNorm blocks with causal self-attention and an MLP, final LayerNorm. Parameter names follow
/// transformers' CLIPTextModel state dict.
/// </summary>
internal static class ClipTextGraph
{
    /// <summary>Token ids [B, seq] (int64) → last_hidden_state [B, seq, hidden] (float32); seq ≤ 77.</summary>
    public static string Build(SdGraphLayers l, ClipTextConfig c, string ids)
    {
        var g = l.G;
        int positions = c.MaxPositions;
        var tokens = g.Node("Gather", [l.Param("text_model.embeddings.token_embedding.weight", [c.VocabularySize, c.Hidden], SdTensorRole.Embedding), ids]);
        var length = g.Node("Shape", [ids], null, OnnxGraphBuilder.Int("start", 1), OnnxGraphBuilder.Int("end", 2));
        var positionTable = l.Param("text_model.embeddings.position_embedding.weight", [positions, c.Hidden], SdTensorRole.Embedding);
        var position = g.Node("Slice", [positionTable, g.Constant(0), length, g.Constant(0)]);
        var h = g.Node("Add", [tokens, position]);

        // Causal mask: −∞ (a large negative) above the diagonal, cut to the sequence length.
        var mask = new float[positions * positions];
        for (int i = 0; i < positions; i++)
        {
            for (int j = i + 1; j < positions; j++)
            {
                mask[i * positions + j] = -1e9f;
            }
        }
        var causal = g.Node("Slice", [g.Constant(mask, positions, positions), g.Node("Concat", [g.Constant(0), g.Constant(0)], null, OnnxGraphBuilder.Int("axis", 0)),
            g.Node("Concat", [length, length], null, OnnxGraphBuilder.Int("axis", 0)), g.Constant(0, 1)]);

        for (int i = 0; i < c.Layers; i++)
        {
            var name = $"text_model.encoder.layers.{i}";
            var attended = l.Attention(l.LayerNorm(h, name + ".layer_norm1", c.Hidden, c.LayerNormEps), null, name + ".self_attn", c.Hidden, c.Hidden, c.Heads,
                qkvBias: true, mask: causal, q: "q_proj", k: "k_proj", v: "v_proj", o: "out_proj");
            h = g.Node("Add", [h, attended]);
            var up = l.Linear(l.LayerNorm(h, name + ".layer_norm2", c.Hidden, c.LayerNormEps), name + ".mlp.fc1", c.Hidden, c.Intermediate);
            var act = c.QuickGelu ? l.QuickGelu(up) : l.Gelu(up);
            h = g.Node("Add", [h, l.Linear(act, name + ".mlp.fc2", c.Intermediate, c.Hidden)]);
        }
        return l.LayerNorm(h, "text_model.final_layer_norm", c.Hidden, c.LayerNormEps);
    }
}
