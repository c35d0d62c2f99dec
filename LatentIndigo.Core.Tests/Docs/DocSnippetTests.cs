using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LatentIndigo.Tests.Docs;

/// <summary>
/// Every <c>```csharp</c> block in README.md, docs/*.md and the package READMEs compiles unchanged as the Program.cs of
/// a new console app (top-level statements, the SDK's implicit usings, nullable on) that references the library
/// packages: what a user who copies it gets. A block that is deliberately an excerpt (an interface as declared, a loop
/// body needing the caller's variables) is fenced <c>```csharp fragment</c> instead and is not compiled; see
/// docs/getting-started.md ("Code in these docs"). New files and blocks are picked up without changing this test.
/// </summary>
public sealed partial class DocSnippetTests
{
    public static TheoryData<string, int> Snippets()
    {
        var data = new TheoryData<string, int>();
        foreach (var (file, line, _) in FindSnippets())
        {
            data.Add(file, line);
        }
        return data;
    }

    [Fact]
    public void The_docs_have_compiled_snippets()
    {
        // Guards the extraction itself: a change to the fence syntax must not silently turn every block into nothing.
        var snippets = FindSnippets().ToList();
        Assert.True(snippets.Count >= 8, $"only {snippets.Count} compiled C# blocks found under {RepoRoot}");
        Assert.Contains(snippets, s => s.File == "README.md");
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_compiles(string file, int line)
    {
        string code = FindSnippets().Single(s => s.File == file && s.Line == line).Code;
        var errors = Compile(code);
        Assert.True(errors.Count == 0,
            $"{file}:{line}: the C# block does not compile as a program (fix it, or fence it as ```csharp fragment if it is an excerpt on purpose):\n"
            + string.Join("\n", errors));
    }

    [Fact]
    public void The_checker_reports_an_undefined_name()
    {
        // The check can fail: a block using a name nobody declared (the README once used an undefined cancellationToken).
        var errors = Compile("using LatentIndigo.Pipeline;\nusing var pipeline = RestorationPipeline.Load(modelFolder: null);\npipeline.Dispose(cancellationToken);");
        Assert.Contains(errors, e => e.Contains("CS0103", StringComparison.Ordinal));
        Assert.Empty(Compile("using LatentIndigo.Pipeline;\nusing var pipeline = RestorationPipeline.Load(modelFolder: null);"));
    }

    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).Select(g => g.First());
        var references = new List<MetadataReference>();
        foreach (var path in paths)
        {
            try
            {
                using var stream = File.OpenRead(path);
                using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
                if (pe.HasMetadata)
                {
                    references.Add(MetadataReference.CreateFromFile(path));
                }
            }
            catch (BadImageFormatException)
            {
                // a native library
            }
        }
        return references;
    });

    private static List<string> Compile(string code)
    {
        string usings = string.Concat(ImplicitUsings.Select(u => $"global using global::{u};\n"));
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            "DocSnippet",
            [CSharpSyntaxTree.ParseText(usings, options, "GlobalUsings.cs"), CSharpSyntaxTree.ParseText(code, options, "Program.cs")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: false));
        return compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
    }

    private static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LatentIndigo.sln")))
            {
                dir = dir.Parent;
            }
            return dir?.FullName ?? throw new InvalidOperationException("repository root (LatentIndigo.sln) not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The documents a user copies code from: the README, docs/, and the package READMEs.</summary>
    private static IEnumerable<(string File, int Line, string Code)> FindSnippets()
    {
        string root = RepoRoot;
        var files = new[] { "README.md" }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Select(f => Path.GetRelativePath(root, f)))
            .Concat(Directory.GetFiles(root, "PACKAGE.md", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                         && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .Select(f => Path.GetRelativePath(root, f)))
            .Select(f => f.Replace(Path.DirectorySeparatorChar, '/'))
            .OrderBy(f => f, StringComparer.Ordinal);
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(Path.Combine(root, file));
            for (int i = 0; i < lines.Length; i++)
            {
                var fence = Fence().Match(lines[i]);
                if (!fence.Success)
                {
                    continue;
                }
                int start = i + 1;
                int end = start;
                while (end < lines.Length && !lines[end].TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    end++;
                }
                string info = fence.Groups["info"].Value.Trim();
                if (info is "csharp" or "cs" or "c#")
                {
                    yield return (file, i + 1, string.Join("\n", lines[start..end]));
                }
                i = end;
            }
        }
    }

    [GeneratedRegex(@"^\s*```(?<info>\S.*)$")]
    private static partial Regex Fence();
}
