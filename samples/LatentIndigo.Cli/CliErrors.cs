using System.Text.RegularExpressions;

namespace LatentIndigo.Cli;

/// <summary>Turns library and parser messages into messages about the command line (option names, not API names).</summary>
internal static partial class CliErrors
{
    /// <summary>API names in library messages and the options (or words) a CLI user knows them by.</summary>
    private static readonly (string Api, string Cli)[] Names =
    [
        ("RestoreOptions.MaxOutputPixels", "--max-output-mp"),
        ("MaxOutputPixels", "--max-output-mp"),
        ("ImageLoadOptions.MaxPixels", "the 64 MP input limit"),
        ("ImageLoadOptions.MaxFileBytes", "the 256 MiB file-size limit"),
        ("RestoreOptions.EstimatePeakMemoryBytes", "docs/usage.md (memory)"),
        ("ImageSaveOptions.AllowOverwriteSource", "another output path (inputs are never overwritten)"),
        ("ScaleFactor", "--scale"),
        ("LatentTileOverlap", "the tile overlap (--tile / 2)"),
        ("LatentTileSize", "--tile"),
        ("TileBatchSize", "--tile-batch"),
        ("KnownDegradation", "--degradation"),
        ("Steps", "--steps"),
        ("Strength", "--strength"),
        ("NegativePrompt", "the negative prompt"),
        ("Prompt", "--prompt"),
    ];

    /// <summary>One problem as it is; several as "N problems: (1) … (2) …", so that all show at once.</summary>
    public static string List(IReadOnlyList<string> problems) => problems.Count == 1
        ? problems[0]
        : $"{problems.Count} problems: " + string.Join(" ", problems.Select((p, i) => $"({i + 1}) {p}"));

    /// <summary>Replaces API names with CLI option names (whole words only).</summary>
    public static string ForCli(string message)
    {
        foreach (var (api, cli) in Names)
        {
            message = Regex.Replace(message, $@"(?<![\w.-]){Regex.Escape(api)}(?![\w])", cli);
        }
        return message;
    }

    /// <summary>
    /// Spectre.Console.Cli reports a value it cannot convert as "Failed to convert 'abc' to Int32." without the
    /// option: find the option in the arguments and say what it expects.
    /// </summary>
    public static string? ExplainConversionFailure(string message, IReadOnlyList<string> args)
    {
        var match = ConversionFailure().Match(message);
        if (!match.Success)
        {
            return null;
        }
        string value = match.Groups[1].Value, type = match.Groups[2].Value;
        string expected = type switch
        {
            "Int32" or "Int64" or "Int16" => "a whole number",
            "Double" or "Single" or "Decimal" => "a number (with a '.' for decimals)",
            "Boolean" => "true or false",
            _ => $"a {type} value",
        };
        string? option = null;
        for (int i = 0; i < args.Count && option is null; i++)
        {
            if (args[i] == value && i > 0 && args[i - 1].StartsWith('-'))
            {
                option = args[i - 1];
            }
            else if (args[i].StartsWith('-') && (args[i].EndsWith("=" + value, StringComparison.Ordinal) || args[i].EndsWith(":" + value, StringComparison.Ordinal)))
            {
                option = args[i][..^(value.Length + 1)];
            }
        }
        return option is null
            ? $"'{value}' is not {expected}. Check the option values (--help lists them)."
            : $"{option} expects {expected}; got '{value}'. See --help for its range.";
    }

    [GeneratedRegex(@"^Failed to convert '(.*)' to (\w+)\.?$", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();
}
