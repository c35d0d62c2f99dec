using System.Reflection;
using Xunit;
using System.Xml.Linq;
using LatentIndigo.Batch;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Tests.Packaging;

/// <summary>
/// The XML documentation file shipped beside each library documents its public surface and nothing else (the compiler
/// writes internal members too; build/PublicDocs.targets filters them by the PublicAPI lists). Checked here against
/// reflection over the built assembly, an independent view of what is public.
/// </summary>
public sealed class PublicDocsTests
{
    public static TheoryData<string> Libraries => new() { typeof(RestorationPipeline).Assembly.Location, typeof(RestoreBatch).Assembly.Location };

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Documentation_file_lists_exactly_the_public_types(string assemblyPath)
    {
        var assembly = Assembly.LoadFrom(assemblyPath);
        var documented = DocumentedIds(assemblyPath).Where(id => id.StartsWith("T:", StringComparison.Ordinal))
            .Select(id => id[2..]).ToHashSet();
        var exported = assembly.GetExportedTypes().Select(DocName).ToHashSet();

        Assert.True(exported.Count > 10, "too few public types: wrong assembly?");
        Assert.Empty(documented.Except(exported)); // internal types documented
        Assert.Empty(exported.Except(documented)); // public types without documentation
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Documentation_file_lists_no_internal_members(string assemblyPath)
    {
        var assembly = Assembly.LoadFrom(assemblyPath);
        var types = assembly.GetExportedTypes().ToDictionary(DocName);
        var notPublic = new List<string>();
        foreach (var id in DocumentedIds(assemblyPath).Where(id => id[0] is 'M' or 'P' or 'F' or 'E'))
        {
            string name = id[2..];
            int paren = name.IndexOf('(', StringComparison.Ordinal);
            int? parameters = id[0] == 'M' ? 0 : null;
            if (paren >= 0)
            {
                parameters = CountParameters(name[(paren + 1)..^1]);
                name = name[..paren];
            }
            int dot = name.LastIndexOf('.');
            string typeName = name[..dot], member = name[(dot + 1)..];
            member = member.Split('`')[0];
            if (!types.TryGetValue(typeName, out var type))
            {
                notPublic.Add(id);
                continue;
            }
            if (member.Contains('#', StringComparison.Ordinal) && member != "#ctor")
            {
                continue; // an explicit interface implementation: public through the interface
            }
            const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var candidates = (member == "#ctor" ? type.GetConstructors(All).Cast<MemberInfo>() : type.GetMember(member, All))
                .Where(m => parameters is null || m is not MethodBase method || method.GetParameters().Length == parameters);
            if (!candidates.Any(IsVisible))
            {
                notPublic.Add(id);
            }
        }
        Assert.Empty(notPublic);
    }

    private static bool IsVisible(MemberInfo member) => member switch
    {
        MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => p.GetAccessors(nonPublic: true).Any(a => IsVisible(a)),
        EventInfo e => e.AddMethod is { } add && IsVisible(add),
        Type t => t.IsNestedPublic || t.IsNestedFamily,
        _ => false,
    };

    /// <summary>Parameters in a documentation id's parameter list ("A,B{C,D}" is two).</summary>
    private static int CountParameters(string list)
    {
        if (list.Length == 0)
        {
            return 0;
        }
        int depth = 0, commas = 0;
        foreach (char c in list)
        {
            depth += c is '{' or '[' ? 1 : c is '}' or ']' ? -1 : 0;
            commas += c == ',' && depth == 0 ? 1 : 0;
        }
        return commas + 1;
    }

    private static string DocName(Type type) => type.FullName!.Replace('+', '.');

    private static List<string> DocumentedIds(string assemblyPath)
    {
        string xml = Path.ChangeExtension(assemblyPath, ".xml");
        Assert.True(File.Exists(xml), $"no documentation file {xml}");
        return XDocument.Load(xml).Root!.Element("members")!.Elements("member").Select(m => (string)m.Attribute("name")!).ToList();
    }
}
