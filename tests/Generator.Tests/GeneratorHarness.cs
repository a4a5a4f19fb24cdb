using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using WampContracts.Generator;
using WampContracts.Generator.Analyzers;

namespace WampContracts.Generator.Tests;

/// <summary>Compiles test sources against the runtime and runs the generator and the analyzer on them.</summary>
internal static class GeneratorHarness
{
    private static readonly ImmutableArray<MetadataReference> References = LoadReferences();

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        paths.Add(typeof(WampSession).Assembly.Location);
        return [.. paths.Distinct().Select(p => MetadataReference.CreateFromFile(p))];
    }

    /// <summary>What an SDK project's implicit usings would bring.</summary>
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create("Contracts",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Contract{i}.cs"))
                .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, ParseOptions, path: "Usings.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create([new WampServiceGenerator().AsSourceGenerator()], parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the generated sources by hint name and the output compilation.</summary>
    public static (Dictionary<string, string> Sources, Compilation Output) Generate(params string[] sources)
    {
        var compilation = Compile(sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        var result = driver.GetRunResult();
        return (result.GeneratedTrees.ToDictionary(t => Path.GetFileName(t.FilePath), t => t.GetText().ToString()), output);
    }

    /// <summary>Errors and warnings of compiling the sources together with what the generator made of them.</summary>
    public static List<Diagnostic> CompileGenerated(params string[] sources)
    {
        var (_, output) = Generate(sources);
        return output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
    }

    /// <summary>The analyzer's diagnostics, ordered by position.</summary>
    public static async Task<List<Diagnostic>> AnalyzeAsync(params string[] sources)
    {
        var compilation = Compile(sources);
        var withAnalyzers = compilation.WithAnalyzers([new WampContractAnalyzer()]);
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        return diagnostics.OrderBy(d => d.Location.SourceSpan.Start).ToList();
    }
}
