using System.Text;
using System.Text.Json;

namespace LatentIndigo.StandIns;

/// <summary>
/// A small CLIP-style tokenizer (byte-level BPE with the <c>&lt;/w&gt;</c> end-of-word suffix): the 256 byte symbols
/// with and without the suffix at ids 0…511 as in CLIP's vocab.json, a handful of merges (enough to spell
/// "a photo of a cat" in whole-word tokens), and the special tokens at CLIP's ids 49406/49407.
/// </summary>
public static class StandInTokenizerFiles
{
    /// <summary>Id of <c>&lt;|startoftext|&gt;</c>.</summary>
    public const int StartOfText = 49406;

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c> (the padding token of SD 1.x's files).</summary>
    public const int EndOfText = 49407;

    /// <summary>SD 2.x's padding token (OpenCLIP pads with <c>!</c>, id 0 in CLIP's vocabulary).</summary>
    public const string Sd2PadToken = "!";

    /// <summary>The merges in priority order.</summary>
    public static IReadOnlyList<(string Left, string Right)> Merges { get; } =
    [
        ("p", "h"), ("ph", "o"), ("pho", "t"), ("phot", "o</w>"), ("o", "f</w>"), ("c", "a"), ("ca", "t</w>"),
    ];

    /// <summary>The vocabulary: token → id.</summary>
    public static IReadOnlyDictionary<string, int> Vocabulary()
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var symbols = ByteSymbols();
        for (int i = 0; i < symbols.Count; i++)
        {
            vocab[symbols[i]] = i;
            vocab[symbols[i] + "</w>"] = symbols.Count + i;
        }
        foreach (var (l, r) in Merges)
        {
            vocab.TryAdd(l + r, vocab.Count);
        }
        vocab["<|startoftext|>"] = StartOfText;
        vocab["<|endoftext|>"] = EndOfText;
        return vocab;
    }

    /// <summary>
    /// Writes vocab.json, merges.txt, tokenizer_config.json and special_tokens_map.json into <paramref name="folder"/>;
    /// <paramref name="padToken"/> null pads with <c>&lt;|endoftext|&gt;</c> (SD 1.x), <see cref="Sd2PadToken"/> as SD 2.x does.
    /// </summary>
    public static void Write(string folder, string? padToken = null)
    {
        padToken ??= "<|endoftext|>";
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(Vocabulary()), new UTF8Encoding(false));
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in Merges)
        {
            merges.Append(l).Append(' ').Append(r).Append('\n');
        }
        File.WriteAllText(Path.Combine(folder, "merges.txt"), merges.ToString(), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            $$"""{ "model_max_length": 77, "pad_token": "{{padToken}}", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "do_lower_case": true }""");
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"),
            $$"""{ "pad_token": "{{padToken}}", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>" }""");
    }

    // The byte → printable-character table of byte-level BPE (GPT-2/CLIP): printable Latin-1 bytes stand for
    // themselves, the other bytes are shifted to 256 + n, in this order.
    private static List<string> ByteSymbols()
    {
        var printable = new List<int>();
        for (int b = '!'; b <= '~'; b++) printable.Add(b);
        for (int b = 0xA1; b <= 0xAC; b++) printable.Add(b);
        for (int b = 0xAE; b <= 0xFF; b++) printable.Add(b);
        var result = printable.Select(b => ((char)b).ToString()).ToList();
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!printable.Contains(b))
            {
                result.Add(((char)(256 + extra++)).ToString());
            }
        }
        return result;
    }
}
