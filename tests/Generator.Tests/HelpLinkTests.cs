using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using WampContracts.Generator.Analyzers;

namespace WampContracts.Generator.Tests;

/// <summary>Every diagnostic's help link leads to its own heading of docs/contracts.md, and the documented examples do what they say.</summary>
public partial class HelpLinkTests
{
    private const string Canonical = "https://github.com/wampcontracts/wampcontracts/blob/main/docs/contracts.md#";

    private static readonly string Doc = File.ReadAllText(typeof(HelpLinkTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ContractsDoc").Value!);

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    /// <summary>The anchors GitHub gives the document's headings: lowercase, spaces as '-', other punctuation left out.</summary>
    private static HashSet<string> Anchors() =>
        Heading().Matches(Doc).Select(m => new string(m.Groups[1].Value.Trim().ToLowerInvariant()
            .Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').Select(c => c == ' ' ? '-' : c).ToArray())).ToHashSet();

    [Fact]
    public void Every_help_link_is_absolute_and_names_a_heading_of_the_contracts_doc()
    {
        var anchors = Anchors();
        var descriptors = new WampContractAnalyzer().SupportedDiagnostics;
        Assert.NotEmpty(descriptors);
        foreach (var d in descriptors)
        {
            Assert.StartsWith(Canonical, d.HelpLinkUri);
            string anchor = d.HelpLinkUri[Canonical.Length..];
            Assert.True(anchors.Contains(anchor), $"{d.Id}: no heading of docs/contracts.md has the anchor '#{anchor}'");
            Assert.StartsWith(d.Id.ToLowerInvariant() + "-", anchor);
        }
    }

    [Fact]
    public void Every_documented_diagnostic_exists()
    {
        var ids = new WampContractAnalyzer().SupportedDiagnostics.Select(d => d.Id).ToHashSet();
        var documented = Heading().Matches(Doc).Select(m => m.Groups[1].Value).Where(h => h.StartsWith("WAMP")).Select(h => h[..8]).ToList();
        Assert.Equal(ids.Order(), documented.Order());
    }

    /// <summary>The lines of the code block under a heading that end with the given comment.</summary>
    private static List<string> Example(string heading, string comment)
    {
        int start = Doc.IndexOf("### " + heading, StringComparison.Ordinal);
        Assert.True(start >= 0, heading);
        int open = Doc.IndexOf("```csharp", start, StringComparison.Ordinal), close = Doc.IndexOf("```", open + 9, StringComparison.Ordinal);
        return Doc[(open + 9)..close].Split('\n').Where(l => l.TrimEnd().EndsWith(comment, StringComparison.Ordinal))
            .Select(l => l[..l.IndexOf("//", StringComparison.Ordinal)]).ToList();
    }

    [Fact]
    public async Task The_documented_WAMP0001_example_reports_WAMP0001_and_its_fix_nothing()
    {
        string bad = Assert.Single(Example("WAMP0001", "// bad"));
        string fixedLine = Assert.Single(Example("WAMP0001", "// fixed"));

        var source = "using WampContracts;\n" + bad;
        // What a build shows: the compiler's own errors and the analyzer's. The analyzer's must be the one, not the
        // compiler's complaint about where the attribute may go.
        var compilerErrors = GeneratorHarness.Compile(source).GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error);
        Assert.Empty(compilerErrors);
        var reported = await GeneratorHarness.AnalyzeAsync(source);
        Assert.Equal("WAMP0001", Assert.Single(reported).Id);

        var fixedSource = "using WampContracts;\n" + fixedLine;
        Assert.Empty(GeneratorHarness.Compile(fixedSource).GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(await GeneratorHarness.AnalyzeAsync(fixedSource));
    }
}
