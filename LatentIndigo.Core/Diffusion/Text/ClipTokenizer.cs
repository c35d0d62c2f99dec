using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The CLIP tokenizer of an SD export (<c>tokenizer/vocab.json</c> and <c>merges.txt</c>) on Microsoft.ML.Tokenizers'
/// byte-level BPE with the <c>&lt;/w&gt;</c> end-of-word suffix: lower-cased, whitespace collapsed, split with CLIP's
/// pattern, wrapped in start/end tokens and padded to 77 ids. (CLIP's ftfy text repair is not applied.)
/// </summary>
internal sealed partial class ClipTokenizer
{
    /// <summary>Tokens per prompt, start and end tokens included.</summary>
    public const int MaxLength = 77;

    private readonly BpeTokenizer bpe;

    // Set for the tokenizer an import writes when the checkpoint carries none (see Import/ImportedFolderWriter).
    private readonly string? emptyPromptOnlyFolder;

    private ClipTokenizer(BpeTokenizer bpe, int bos, int eos, int pad, string? emptyPromptOnlyFolder = null)
    {
        this.bpe = bpe;
        this.emptyPromptOnlyFolder = emptyPromptOnlyFolder;
        StartOfTextId = bos;
        EndOfTextId = eos;
        PadId = pad;
    }

    /// <summary>Id of <c>&lt;|startoftext|&gt;</c>.</summary>
    public int StartOfTextId { get; }

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public int EndOfTextId { get; }

    /// <summary>Padding id (the export's <c>pad_token</c>: <c>&lt;|endoftext|&gt;</c> for SD 1.x, <c>!</c> for SD 2.x).</summary>
    public int PadId { get; }

    /// <summary>Loads the tokenizer files from an export's <c>tokenizer/</c> folder.</summary>
    public static ClipTokenizer Load(string tokenizerFolder)
    {
        var vocabPath = Path.Combine(tokenizerFolder, "vocab.json");
        var mergesPath = Path.Combine(tokenizerFolder, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
        {
            throw new LatentIndigoException($"'{tokenizerFolder}' needs vocab.json and merges.txt (the CLIP tokenizer files of the export).");
        }
        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                ?? throw new LatentIndigoException($"'{vocabPath}' is empty.");
        }
        catch (JsonException e)
        {
            throw new LatentIndigoException($"'{vocabPath}' is not a JSON object of token → id ({e.Message}).", e);
        }
        int Id(string token) => vocab.TryGetValue(token, out var id)
            ? id
            : throw new LatentIndigoException($"'{vocabPath}' has no '{token}' token; it does not look like a CLIP vocabulary.");
        int bos = Id("<|startoftext|>"), eos = Id("<|endoftext|>");
        var padToken = ReadPadToken(tokenizerFolder) ?? "<|endoftext|>";
        int pad = vocab.TryGetValue(padToken, out var p) ? p : eos;
        var special = new Dictionary<string, int> { ["<|startoftext|>"] = bos, ["<|endoftext|>"] = eos };
        var options = new BpeOptions(vocabPath, mergesPath)
        {
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            Normalizer = LowerCaseNormalizer.Instance,
            PreTokenizer = new RegexPreTokenizer(ClipPattern(), special),
            SpecialTokens = special,
        };
        try
        {
            return new ClipTokenizer(BpeTokenizer.Create(options), bos, eos, pad, IsEmptyPromptOnly(tokenizerFolder) ? tokenizerFolder : null);
        }
        catch (Exception e) when (e is not LatentIndigoException)
        {
            throw new LatentIndigoException($"The tokenizer files in '{tokenizerFolder}' could not be read ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Token ids for a prompt: start token, up to 75 prompt tokens (longer prompts are truncated, as in diffusers),
    /// end token, then padding to <see cref="MaxLength"/>.
    /// </summary>
    public int[] Encode(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var ids = new int[MaxLength];
        Array.Fill(ids, PadId);
        ids[0] = StartOfTextId;
        int n = 1;
        var clean = Whitespace().Replace(prompt, " ").Trim();
        if (clean.Length > 0 && emptyPromptOnlyFolder is not null)
        {
            throw new LatentIndigoException(
                $"This model has no real tokenizer ('{emptyPromptOnlyFolder}' was written by import-sd for a single-file checkpoint, which carries none): "
                + "it encodes only the empty prompt. To use a prompt, copy a CLIP tokenizer folder (vocab.json, merges.txt, e.g. the tokenizer/ of a "
                + "diffusers pipeline of the same family: SD 1.x or SD 2.x) over it, or import again with --tokenizer <folder>.");
        }
        if (clean.Length > 0)
        {
            foreach (var id in bpe.EncodeToIds(clean))
            {
                if (n == MaxLength - 1)
                {
                    break;
                }
                ids[n++] = id;
            }
        }
        ids[n] = EndOfTextId;
        return ids;
    }

    private static bool IsEmptyPromptOnly(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        try
        {
            using var doc = File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path)) : null;
            return doc is { RootElement.ValueKind: JsonValueKind.Object }
                && doc.RootElement.TryGetProperty(Import.ImportedFolderWriter.EmptyPromptOnlyKey, out var flag) && flag.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false; // an unreadable optional file: a normal tokenizer
        }
    }

    private static string? ReadPadToken(string folder)
    {
        foreach (var file in new[] { "special_tokens_map.json", "tokenizer_config.json" })
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path))
            {
                continue;
            }
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(path));
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("pad_token", out var pad))
                {
                    if (pad.ValueKind == JsonValueKind.String)
                    {
                        return pad.GetString();
                    }
                    if (pad.ValueKind == JsonValueKind.Object && pad.TryGetProperty("content", out var content))
                    {
                        return content.GetString();
                    }
                }
            }
            catch (JsonException)
            {
                // An unreadable optional file: the CLIP default applies.
            }
        }
        return null;
    }

    // CLIP's pre-tokenisation pattern: special tokens, English contractions, letter runs, single digits, other symbols.
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex ClipPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
