using System.Text.Json.Nodes;

namespace LatentIndigo.Tests.Pipeline.Estimators;

/// <summary>
/// Writes a tiny TF.js layers model (model.json + one shard, random weights) in UpscalerJS's format: every layer the
/// converter supports, a ×2 PixelShuffle and a ×2 nearest UpSampling2D (×4 in all), residual scaling, concatenation.
/// </summary>
internal static class TfjsFixture
{
    public static void Write(string folder, int seed, string? extraLayerClass = null)
    {
        var random = new Random(seed);
        var layers = new JsonArray();
        var manifestWeights = new JsonArray();
        using var shard = new MemoryStream();

        void Layer(string cls, string name, JsonObject config, params string[] inbound)
        {
            config["name"] = name;
            layers.Add(new JsonObject
            {
                ["class_name"] = cls,
                ["config"] = config,
                ["name"] = name,
                ["inbound_nodes"] = inbound.Length == 0 ? new JsonArray() : new JsonArray(new JsonArray(inbound.Select(i => (JsonNode)new JsonArray(i, 0, 0, new JsonObject())).ToArray())),
            });
        }
        void Weight(string name, params int[] shape)
        {
            manifestWeights.Add(new JsonObject { ["name"] = name, ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()), ["dtype"] = "float32" });
            int count = shape.Aggregate(1, (a, b) => a * b);
            foreach (var _ in Enumerable.Range(0, count))
            {
                shard.Write(BitConverter.GetBytes((float)(random.NextDouble() * 0.4 - 0.2)));
            }
        }
        void Conv(string name, int cin, int cout, int k, string activation, string inbound)
        {
            Layer("Conv2D", name, new JsonObject
            {
                ["filters"] = cout, ["kernel_size"] = new JsonArray(k, k), ["strides"] = new JsonArray(1, 1), ["padding"] = "same",
                ["data_format"] = "channels_last", ["dilation_rate"] = new JsonArray(1, 1), ["groups"] = 1, ["activation"] = activation, ["use_bias"] = true,
            }, inbound);
            Weight(name + "/kernel", k, k, cin, cout);
            Weight(name + "/bias", cout);
        }

        Layer("InputLayer", "LR", new JsonObject { ["batch_input_shape"] = new JsonArray((JsonNode?)null, null, null, 3), ["dtype"] = "float32" });
        Conv("a", 3, 8, 3, "relu", "LR");
        Conv("b", 8, 4, 3, "linear", "a");
        Layer("Activation", "b_relu", new JsonObject { ["activation"] = "relu" }, "b");
        Layer("Concatenate", "cat", new JsonObject { ["axis"] = 3 }, "a", "b_relu");
        Conv("c", 12, 8, 1, "linear", "cat");
        Layer("MultiplyBeta", "beta", new JsonObject { ["beta"] = 0.2 }, "c");
        Layer("Add", "sum", new JsonObject(), "a", "beta");
        Conv("pre", 8, 12, 5, "linear", "sum");
        Layer("PixelShuffle2x", "shuffle", new JsonObject { ["scale"] = 2 }, "pre");
        Layer("UpSampling2D", "up", new JsonObject { ["size"] = new JsonArray(2, 2), ["data_format"] = "channels_last", ["interpolation"] = "nearest" }, "shuffle");
        string last = "up";
        if (extraLayerClass is not null)
        {
            Layer(extraLayerClass, "odd_layer", new JsonObject(), "up");
            last = "odd_layer";
        }
        Conv("SR", 3, 3, 3, "linear", last);

        var model = new JsonObject
        {
            ["format"] = "layers-model",
            ["generatedBy"] = "test",
            ["convertedBy"] = "test",
            ["modelTopology"] = new JsonObject
            {
                ["model_config"] = new JsonObject
                {
                    ["class_name"] = "Functional",
                    ["config"] = new JsonObject
                    {
                        ["name"] = "fixture", ["layers"] = layers,
                        ["input_layers"] = new JsonArray(new JsonArray("LR", 0, 0)),
                        ["output_layers"] = new JsonArray(new JsonArray("SR", 0, 0)),
                    },
                },
            },
            ["weightsManifest"] = new JsonArray(new JsonObject { ["paths"] = new JsonArray("group1-shard1of1.bin"), ["weights"] = manifestWeights }),
        };
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "model.json"), model.ToJsonString());
        File.WriteAllBytes(Path.Combine(folder, "group1-shard1of1.bin"), shard.ToArray());
    }
}
