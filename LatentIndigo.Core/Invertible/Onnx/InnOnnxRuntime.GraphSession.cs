using LatentIndigo.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Invertible;

internal sealed partial class InnOnnxRuntime
{
    /// <summary>One generated graph's session, its IOBinding and the TorchSharp buffers bound to its inputs and outputs.</summary>
    private sealed class GraphSession : IDisposable
    {
        private readonly Dictionary<string, BoundBuffer> buffers = [];
        private float lossWeight0 = float.NaN;
        private float lossWeight1 = float.NaN;

        public GraphSession(InnOnnxRuntime owner, InnGraphKind kind, long batch, long height, long width, bool sharedCondition)
        {
            SharedCondition = sharedCondition;
            Kind = kind;
            Batch = batch;
            Height = height;
            Width = width;
            var model = InnGraphGenerator.Generate(kind, owner.options, owner.weightShapes, batch, height, width, sharedCondition,
                blocked: owner.device.type == DeviceType.CPU && owner.BlockedLayout);
            using var so = owner.sessionOptions();
            // Only the guidance graph (one tile shape, run every step) keeps ONNX Runtime's memory arena between runs; the
            // forward/inverse graphs (several window shapes, a few runs per restore) give their memory back after each
            // run, so that a full cache does not hold hundreds of MB per shape.
            so.EnableCpuMemArena = kind == InnGraphKind.Guidance;
            Session = new InferenceSession(model, so);
            try
            {
                Io = Session.CreateIoBinding();
                foreach (var (name, meta) in Session.InputMetadata)
                {
                    if (!owner.weightShapes.ContainsKey(name))
                    {
                        Bind(owner, name, meta, input: true);
                    }
                }
                foreach (var (name, meta) in Session.OutputMetadata)
                {
                    Bind(owner, name, meta, input: false);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public InnGraphKind Kind { get; }

        public bool SharedCondition { get; }

        public long Batch { get; }

        public long Height { get; }

        public long Width { get; }

        public InferenceSession Session { get; }

        public OrtIoBinding Io { get; } = null!;

        public int WeightsVersion { get; set; } = -1;

        public bool ConditionIsOnes { get; set; }

        public Tensor Input(string name) => buffers[name].Tensor;

        public Tensor Output(string name) => buffers[name].Tensor;

        /// <summary>Writes [w0, w1] when they changed (a CPU write needs no tensor objects: no managed allocation per step).</summary>
        public unsafe void SetLossWeights(float w0, float w1)
        {
            if (w0.Equals(lossWeight0) && w1.Equals(lossWeight1))
            {
                return;
            }
            var t = buffers[InnGraphGenerator.LossWeights].Tensor;
            if (t.device_type == DeviceType.CPU)
            {
                var p = (float*)TorchSharpNative.DataPointer(t);
                p[0] = w0;
                p[1] = w1;
            }
            else
            {
                using var values = torch.tensor(new[] { w0, w1 });
                t.copy_(values);
            }
            lossWeight0 = w0;
            lossWeight1 = w1;
        }

        public unsafe double ReadScalar(string name)
        {
            var t = buffers[name].Tensor;
            return t.device_type == DeviceType.CPU ? *(float*)TorchSharpNative.DataPointer(t) : t.item<float>();
        }

        private void Bind(InnOnnxRuntime owner, string name, NodeMetadata meta, bool input)
        {
            var shape = meta.Dimensions.Select(d => (long)d).ToArray();
            var b = BoundBuffer.Allocate(shape, TensorElementType.Float, owner.device, owner.memoryInfo);
            buffers[name] = b;
            if (input)
            {
                Io.BindInput(name, b.Value);
            }
            else
            {
                Io.BindOutput(name, b.Value);
            }
        }

        public void Dispose()
        {
            Io?.Dispose();
            Session.Dispose();
            foreach (var b in buffers.Values)
            {
                b.Dispose();
            }
        }
    }
}
