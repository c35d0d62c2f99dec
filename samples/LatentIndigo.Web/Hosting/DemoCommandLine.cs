namespace LatentIndigo.Web.Hosting;

/// <summary>
/// The demo's command-line switches, turned into configuration keys before ASP.NET Core reads the rest
/// (<c>--urls</c>, <c>--environment</c>, <c>--Demo:Name value</c>): <c>--model &lt;export or checkpoint&gt;</c>,
/// <c>--import-cache &lt;folder&gt;</c>, <c>--stand-in</c>, <c>--inn</c>, <c>--latent-inn</c>, <c>--eval &lt;folder&gt;</c>, <c>--max-concurrent &lt;n&gt;</c>. ASP.NET Core's own
/// parser cannot read a switch without a value such as <c>--stand-in</c>.
/// </summary>
public static class DemoCommandLine
{
    private static readonly Dictionary<string, string> ValueSwitches = new(StringComparer.Ordinal)
    {
        ["--model"] = nameof(DemoSettings.Model),
        ["--import-cache"] = nameof(DemoSettings.ImportCacheFolder),
        ["--inn"] = nameof(DemoSettings.Inn),
        ["--latent-inn"] = nameof(DemoSettings.LatentInn),
        ["--eval"] = nameof(DemoSettings.EvalFolder),
        ["--max-concurrent"] = nameof(DemoSettings.MaxConcurrentRestores),
    };

    /// <summary>Rewrites the demo's switches as <c>--Demo:Key=value</c>; other arguments pass through unchanged.</summary>
    /// <exception cref="ArgumentException">A switch lacks its value.</exception>
    public static string[] Translate(IReadOnlyList<string> args)
    {
        var result = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg.Split('=', 2)[0];
            if (arg == "--stand-in")
            {
                result.Add($"--{DemoSettings.Section}:{nameof(DemoSettings.StandIn)}=true");
            }
            else if (ValueSwitches.TryGetValue(name, out var key))
            {
                string? value = arg.Contains('=') ? arg.Split('=', 2)[1] : i + 1 < args.Count ? args[++i] : null;
                if (string.IsNullOrEmpty(value) || (value.StartsWith("--", StringComparison.Ordinal) && !arg.Contains('=')))
                {
                    throw new ArgumentException($"{name} needs a value, e.g. {name} {(name switch { "--max-concurrent" => "2", "--model" => "<export folder, diffusers folder or .safetensors/.ckpt>", _ => "<folder>" })}.");
                }
                result.Add($"--{DemoSettings.Section}:{key}={value}");
            }
            else
            {
                result.Add(arg);
            }
        }
        return [.. result];
    }
}
