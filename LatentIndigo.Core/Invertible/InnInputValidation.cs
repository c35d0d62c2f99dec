using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>Checks done at the public entry points of <see cref="LiftingInn"/>, with messages that say what to do.</summary>
internal static class InnInputValidation
{
    public static void CheckImage(LiftingInn inn, Tensor x, string name) => CheckImage(inn, x, name, inn.DType, inn.Device.type);

    /// <summary>
    /// <see cref="CheckImage(LiftingInn, Tensor, string)"/> against a known dtype and device type (the ONNX Runtime engine
    /// knows them: enumerating the network's parameters on every guidance step would allocate).
    /// </summary>
    public static void CheckImage(LiftingInn inn, Tensor x, string name, ScalarType dtype, DeviceType device)
    {
        var shape = x.shape;
        if (shape.Length != 4)
        {
            throw new InnInputException(
                $"{name} must be a 4-D tensor [B,{inn.Channels},H,W]; got shape [{string.Join(",", shape)}]. Add a batch dimension with unsqueeze(0).");
        }
        if (shape[1] != inn.Channels)
        {
            throw new InnInputException(
                $"{name} has {shape[1]} channels but the INN was built for {inn.Channels} (LiftingInnOptions.Channels).");
        }
        if (x.dtype != dtype || x.device_type != device)
        {
            CheckDTypeAndDevice(inn, x, name);
        }
        long h = shape[2], w = shape[3];
        if (h % inn.ScaleFactor != 0 || w % inn.ScaleFactor != 0 || h == 0 || w == 0)
        {
            throw new InnInputException(
                $"{name} is {h}×{w}, but an INN with {inn.Levels} levels needs height and width divisible by {inn.ScaleFactor}. " +
                "Pad the input (for example with reflect padding) to a multiple of 2^Levels and crop the result back.");
        }
    }

    public static void CheckBands(LiftingInn inn, Tensor coarse, IReadOnlyList<IReadOnlyList<Tensor>> details)
    {
        if (coarse.dim() != 4 || coarse.shape[1] != inn.Channels)
        {
            throw new InnInputException(
                $"coarse must be [B,{inn.Channels},h,w]; got shape [{string.Join(",", coarse.shape)}].");
        }
        CheckDTypeAndDevice(inn, coarse, "coarse");
        if (details.Count != inn.Levels)
        {
            throw new InnInputException(
                $"details has {details.Count} levels but the INN has {inn.Levels}: pass the Details of a Forward call of this network.");
        }
        long b = coarse.shape[0], h = coarse.shape[2], w = coarse.shape[3];
        for (int level = 0; level < details.Count; level++)
        {
            var bands = details[level];
            if (bands is null || bands.Count != 3)
            {
                throw new InnInputException($"details[{level}] must hold exactly 3 bands; got {bands?.Count ?? 0}.");
            }
            long expectedH = h << level, expectedW = w << level;
            for (int k = 0; k < 3; k++)
            {
                var band = bands[k];
                if (band is null || band.dim() != 4 || band.shape[0] != b || band.shape[1] != inn.Channels ||
                    band.shape[2] != expectedH || band.shape[3] != expectedW)
                {
                    var got = band is null ? "null" : $"[{string.Join(",", band.shape)}]";
                    throw new InnInputException(
                        $"details[{level}][{k}] must be [{b},{inn.Channels},{expectedH},{expectedW}] (level 0 is the coarsest, " +
                        $"each level doubles the size of the coarse band {h}×{w}); got {got}.");
                }
                CheckDTypeAndDevice(inn, band, $"details[{level}][{k}]");
            }
        }
    }

    public static Tensor ResolveCondition(LiftingInn inn, Tensor? condition, long batch)
    {
        if (condition is null)
        {
            return ones(batch, inn.ConditionSize, dtype: inn.DType, device: inn.Device);
        }
        var c = condition.dim() == 1 ? condition.unsqueeze(0) : condition.alias();
        if (c.dim() != 2 || c.shape[1] != inn.ConditionSize || (c.shape[0] != batch && c.shape[0] != 1))
        {
            throw new InnInputException(
                $"condition must be [{batch},{inn.ConditionSize}] or [1,{inn.ConditionSize}] (or null for ones); got shape [{string.Join(",", condition.shape)}].");
        }
        CheckDTypeAndDevice(inn, c, "condition");
        return c.shape[0] == batch ? c : c.expand(batch, inn.ConditionSize);
    }

    private static void CheckDTypeAndDevice(LiftingInn inn, Tensor t, string name)
    {
        if (t.dtype != inn.DType)
        {
            throw new InnInputException($"{name} is {t.dtype} but the INN weights are {inn.DType}: convert with .to({inn.DType}).");
        }
        if (t.device.type != inn.Device.type || t.device.index != inn.Device.index)
        {
            throw new InnInputException($"{name} is on {t.device} but the INN is on {inn.Device}: move one of them.");
        }
    }
}
