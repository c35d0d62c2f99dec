using System.Text;

namespace LatentIndigo.Degradations;

/// <summary>
/// The degradation spec language, used by the CLI and by training. A spec is one or more stages joined by
/// <c>&gt;</c>; a stage is <c>name</c>, <c>name:xN</c> or <c>name:key=value,key=value</c>. Examples:
/// <c>bicubic:x4</c>, <c>gauss:sigma=2&gt;bicubic:x4&gt;noise:sigma=5&gt;jpeg:q=40</c>, <c>realesrgan:x4</c>.
/// Every model's <see cref="IDegradationModel.Spec"/> parses back to an equivalent model.
/// </summary>
public static class DegradationSpec
{
    private static readonly SpecParameter Factor = new("x", SpecValueKind.Integer, 1, ResizeDegradation.MaxFactor, "downscaling factor");
    private static readonly SpecParameter Sigma = new("sigma", SpecValueKind.Real, 0.1, 50, "isotropic spread in pixels");
    private static readonly SpecParameter SigmaX = new("sigmax", SpecValueKind.Real, 0.1, 50, "spread along the first axis");
    private static readonly SpecParameter SigmaY = new("sigmay", SpecValueKind.Real, 0.1, 50, "spread along the second axis (default sigmax)");
    private static readonly SpecParameter Theta = new("theta", SpecValueKind.Real, -Math.PI, Math.PI, "rotation in radians (default 0)");
    private static readonly SpecParameter Beta = new("beta", SpecValueKind.Real, 0.1, 10, "shape exponent");
    private static readonly SpecParameter Size = new("size", SpecValueKind.OddInteger, 1, KernelMath.MaxSize, "kernel size");
    private static readonly SpecParameter Gray = new("gray", SpecValueKind.Boolean, 0, 1, "same noise in every channel");

    private static readonly SpecOperator[] Operators =
    [
        ResizeOperator(ResizeMethod.Bicubic, "MATLAB bicubic downscaling with antialiasing"),
        ResizeOperator(ResizeMethod.Bilinear, "MATLAB bilinear downscaling with antialiasing"),
        ResizeOperator(ResizeMethod.Area, "block averaging"),
        ResizeOperator(ResizeMethod.Nearest, "MATLAB nearest-neighbour downscaling"),
        new("gauss", "Gaussian blur, isotropic (sigma) or anisotropic (sigmax, sigmay, theta)",
            "sigma=..|sigmax=..,sigmay=..,theta=..[,size=..]", [Sigma, SigmaX, SigmaY, Theta, Size], a =>
            {
                var (iso, sx, sy, theta) = Spreads(a);
                return iso ? BlurDegradation.Gaussian(sx, a.Integer("size")) : BlurDegradation.AnisotropicGaussian(sx, sy, theta, a.Integer("size"));
            }),
        new("gengauss", "generalised Gaussian blur exp(-Q^beta/2)", "sigma=..|sigmax=..,sigmay=..,theta=..,beta=..[,size=..]",
            [Sigma, SigmaX, SigmaY, Theta, Beta, Size], a =>
            {
                var (_, sx, sy, theta) = Spreads(a);
                return BlurDegradation.GeneralizedGaussian(sx, sy, theta, a.RequiredReal("beta"), a.Integer("size"));
            }),
        new("plateau", "plateau blur 1/(Q^beta+1)", "sigma=..|sigmax=..,sigmay=..,theta=..,beta=..[,size=..]",
            [Sigma, SigmaX, SigmaY, Theta, Beta, Size], a =>
            {
                var (_, sx, sy, theta) = Spreads(a);
                return BlurDegradation.Plateau(sx, sy, theta, a.RequiredReal("beta"), a.Integer("size"));
            }),
        new("motion", "linear motion blur", "length=..,angle=..[,size=..]",
            [new("length", SpecValueKind.Real, 1, KernelMath.MaxSize, "length in pixels"),
             new("angle", SpecValueKind.Real, -360, 360, "degrees counter-clockwise (default 0)"), Size],
            a => BlurDegradation.Motion(a.RequiredReal("length"), a.Real("angle") ?? 0, a.Integer("size"))),
        new("trajectory", "random camera-shake blur, a new path per image", "length=..[,size=..]",
            [new("length", SpecValueKind.Real, 1, KernelMath.MaxSize, "path length in pixels"),
             new("size", SpecValueKind.OddInteger, 3, KernelMath.MaxSize, "kernel size")],
            a => new RandomMotionBlur(a.RequiredReal("length"), a.Integer("size"))),
        new("sinc", "circular low-pass (ringing) filter", "cutoff=..[,size=..]",
            [new("cutoff", SpecValueKind.Real, 0.01, Math.PI, "cutoff in radians per pixel"), Size],
            a => BlurDegradation.Sinc(a.RequiredReal("cutoff"), a.Integer("size") ?? 21)),
        new("kernel", "user blur kernel, row-major, odd square count, applied as given", "values=v;v;...",
            [new("values", SpecValueKind.RealList, 0, 0, "kernel values")],
            a => BlurDegradation.FromValues(a.RealList("values"))),
        new("noise", "additive Gaussian noise, sigma in 0-255 units", "sigma=..[,gray=true]",
            [new("sigma", SpecValueKind.Real, 0, GaussianNoise.MaxSigma, "standard deviation (0-255 units)"), Gray],
            a => new GaussianNoise(a.RequiredReal("sigma"), a.Boolean("gray") ?? false)),
        new("poisson", "Poisson (shot) noise as in Real-ESRGAN", "scale=..[,gray=true]",
            [new("scale", SpecValueKind.Real, 0, PoissonNoise.MaxScale, "noise multiplier"), Gray],
            a => new PoissonNoise(a.RequiredReal("scale"), a.Boolean("gray") ?? false)),
        new("jpeg", "JPEG compression", "q=..",
            [new("q", SpecValueKind.Integer, 1, 100, "quality")],
            a => new JpegCompression(a.RequiredInteger("q"))),
        new("realesrgan", "Real-ESRGAN random second-order degradation", "xN[,usm=false]",
            [new("x", SpecValueKind.Integer, 1, RealEsrganDegradation.MaxFactor, "downscaling factor"),
             new("usm", SpecValueKind.Boolean, 0, 1, "unsharp-mask the clean image first (default true)")],
            a => new RealEsrganDegradation(a.Integer("x") ?? 4, a.Boolean("usm") ?? true)),
    ];

    private static readonly object CustomLock = new();
    private static readonly Dictionary<string, (string Usage, Func<IReadOnlyDictionary<string, string>, IDegradationModel> Create)> Custom = new();

    /// <summary>The operator names the parser knows: the built-in ones, then any registered with <see cref="Register"/>.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (CustomLock)
            {
                return Operators.Select(o => o.Name).Concat(Custom.Keys.Order(StringComparer.Ordinal)).ToArray();
            }
        }
    }

    /// <summary>
    /// Teaches the parser a user degradation, so specs (the CLI's <c>--degradation</c>, training configs) can name it.
    /// The factory receives the stage's parameters as lower-case keys with raw string values (<c>xN</c> arrives as key
    /// <c>x</c>) and should throw <see cref="DegradationException"/> for bad values. Its model's
    /// <see cref="IDegradationModel.Spec"/> should parse back through the same name.
    /// </summary>
    /// <param name="name">Lower-case name: letters, digits, '_' or '-', not a built-in name.</param>
    /// <param name="usage">Parameter summary shown in error messages, e.g. <c>amount=&lt;0..1&gt;</c>.</param>
    /// <param name="create">Builds the model from the parameters.</param>
    public static void Register(string name, string usage, Func<IReadOnlyDictionary<string, string>, IDegradationModel> create)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(create);
        if (name.Length == 0 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-'))
        {
            throw new DegradationException($"A degradation name must be lower-case letters, digits, '_' or '-'; got '{name}'.");
        }
        if (Operators.Any(o => o.Name == name))
        {
            throw new DegradationException($"'{name}' is a built-in degradation; choose another name.");
        }
        lock (CustomLock)
        {
            Custom[name] = (usage ?? "", create);
        }
    }

    /// <summary>
    /// Parses a spec into a degradation: a single stage gives that operator, several give a
    /// <see cref="SequentialDegradation"/>, and alternatives joined by <c>|</c> give a <see cref="MixtureDegradation"/>
    /// that draws one of them per image.
    /// </summary>
    /// <param name="spec">The spec string, e.g. <c>gauss:sigma=2&gt;bicubic:x4</c>. Case and spaces are ignored.</param>
    /// <exception cref="DegradationSpecException">Unknown name or key, malformed or out-of-range value.</exception>
    public static IDegradationModel Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            throw new DegradationSpecException("The degradation spec is empty. " + Describe());
        }
        if (spec.Contains('|'))
        {
            return ParseMixture(spec);
        }
        var stages = spec.Split('>').Select(s => s.Trim()).ToArray();
        if (stages.Any(s => s.Length == 0))
        {
            throw new DegradationSpecException($"The spec '{spec}' has an empty stage; join stages with a single '>'.");
        }
        var models = stages.Select(ParseStage).ToArray();
        if (models.Length == 1)
        {
            return models[0];
        }
        try
        {
            return new SequentialDegradation(models);
        }
        catch (DegradationException ex) when (ex is not DegradationSpecException)
        {
            // For example stages that downscale by more than 1024 in total: still a problem of the spec text.
            throw new DegradationSpecException($"The spec '{spec}' is invalid: {ex.Message}");
        }
    }

    private static MixtureDegradation ParseMixture(string spec)
    {
        var alternatives = spec.Split('|').Select(s => s.Trim()).ToArray();
        if (alternatives.Any(a => a.Length == 0))
        {
            throw new DegradationSpecException($"The spec '{spec}' has an empty alternative; separate alternatives with a single '|'.");
        }
        var models = alternatives.Select(Parse).ToArray();
        try
        {
            return new MixtureDegradation(models);
        }
        catch (DegradationException ex) when (ex is not DegradationSpecException)
        {
            // For example alternatives with different scale factors: a problem of the spec text.
            throw new DegradationSpecException($"The spec '{spec}' is invalid: {ex.Message}");
        }
    }

    /// <summary>A description of every operator with its parameters and valid ranges (also used in error messages).</summary>
    public static string Describe()
    {
        var text = new StringBuilder("Valid degradations (chain stages with '>'; separate alternatives drawn per image with '|'):");
        foreach (var op in Operators)
        {
            text.Append("\n  ").Append(op.Usage).Append("  ").Append(op.Summary);
            if (op.Parameters.Count > 0 && op.Parameters[0].Kind != SpecValueKind.RealList)
            {
                text.Append("; ").Append(string.Join(", ", op.Parameters.Select(p => p.Usage)));
            }
        }
        lock (CustomLock)
        {
            foreach (var (name, entry) in Custom.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                text.Append("\n  ").Append(name).Append(':').Append(entry.Usage).Append("  (user degradation)");
            }
        }
        return text.ToString();
    }

    private static IDegradationModel ParseStage(string stage)
    {
        var colon = stage.IndexOf(':');
        var name = (colon < 0 ? stage : stage[..colon]).Trim().ToLowerInvariant();
        var op = Operators.FirstOrDefault(o => o.Name == name);
        if (op is null)
        {
            return ParseCustomStage(name, colon < 0 ? "" : stage[(colon + 1)..]);
        }
        var values = new Dictionary<string, string>();
        if (colon >= 0)
        {
            foreach (var raw in stage[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries))
            {
                if (raw.Length == 0)
                {
                    throw new DegradationSpecException($"'{name}': empty parameter in '{stage}'. Usage: {op.Usage}");
                }
                string key, value;
                var eq = raw.IndexOf('=');
                if (eq < 0 && raw.Length > 1 && (raw[0] == 'x' || raw[0] == 'X') && op.Parameters.Any(p => p.Key == "x"))
                {
                    (key, value) = ("x", raw[1..]);
                }
                else if (eq <= 0)
                {
                    throw new DegradationSpecException($"'{name}': '{raw}' is not key=value. Usage: {op.Usage}");
                }
                else
                {
                    key = raw[..eq].Trim().ToLowerInvariant();
                    value = raw[(eq + 1)..].Trim();
                    if (key == "scale" && op.Parameters.Any(p => p.Key == "x") && !op.Parameters.Any(p => p.Key == "scale"))
                    {
                        key = "x";
                    }
                    if (key == "quality" && name == "jpeg")
                    {
                        key = "q";
                    }
                }
                if (!op.Parameters.Any(p => p.Key == key))
                {
                    throw new DegradationSpecException(
                        $"'{name}' has no parameter '{key}'. Valid: {string.Join(", ", op.Parameters.Select(p => p.Usage))}.");
                }
                if (!values.TryAdd(key, value))
                {
                    throw new DegradationSpecException($"'{name}': '{key}' is given twice.");
                }
            }
        }
        var arguments = new SpecArguments(op, values);
        try
        {
            return op.Create(arguments);
        }
        catch (DegradationSpecException)
        {
            throw;
        }
        catch (DegradationException ex)
        {
            throw arguments.Error(ex.Message);
        }
    }

    private static IDegradationModel ParseCustomStage(string name, string arguments)
    {
        (string Usage, Func<IReadOnlyDictionary<string, string>, IDegradationModel> Create) entry;
        lock (CustomLock)
        {
            if (!Custom.TryGetValue(name, out entry))
            {
                throw new DegradationSpecException($"Unknown degradation '{name}'. " + Describe());
            }
        }
        var values = new Dictionary<string, string>();
        foreach (var raw in arguments.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = raw.IndexOf('=');
            var (key, value) = eq < 0 && raw.Length > 1 && raw[0] is 'x' or 'X' ? ("x", raw[1..])
                : eq > 0 ? (raw[..eq].Trim().ToLowerInvariant(), raw[(eq + 1)..].Trim())
                : throw new DegradationSpecException($"'{name}': '{raw}' is not key=value. Usage: {name}:{entry.Usage}");
            if (!values.TryAdd(key, value))
            {
                throw new DegradationSpecException($"'{name}': '{key}' is given twice.");
            }
        }
        try
        {
            return entry.Create(values) ?? throw new DegradationSpecException($"'{name}': the registered factory returned null.");
        }
        catch (DegradationSpecException)
        {
            throw;
        }
        catch (DegradationException ex)
        {
            throw new DegradationSpecException($"'{name}': {ex.Message} Usage: {name}:{entry.Usage}");
        }
    }

    private static SpecOperator ResizeOperator(ResizeMethod method, string summary) =>
        new(ResizeDegradation.MethodName(method), summary, $"x<1..{ResizeDegradation.MaxFactor}>", [Factor],
            a => new ResizeDegradation(a.RequiredInteger("x"), method));

    /// <summary>Reads sigma (isotropic) or sigmax/sigmay/theta, refusing a mix.</summary>
    private static (bool Isotropic, double SigmaX, double SigmaY, double Theta) Spreads(SpecArguments a)
    {
        if (a.Has("sigma"))
        {
            if (a.Has("sigmax") || a.Has("sigmay") || a.Has("theta"))
            {
                throw a.Error("give either sigma (isotropic) or sigmax/sigmay/theta, not both.");
            }
            var s = a.RequiredReal("sigma");
            return (true, s, s, 0);
        }
        if (!a.Has("sigmax"))
        {
            throw a.Error("sigma or sigmax is required.");
        }
        var sx = a.RequiredReal("sigmax");
        return (false, sx, a.Real("sigmay") ?? sx, a.Real("theta") ?? 0);
    }
}
