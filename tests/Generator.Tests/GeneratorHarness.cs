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

    /// <summary>A project that sets WampTypeScriptOutput: WampContracts.TypeScript.targets defines this symbol.</summary>
    public static readonly CSharpParseOptions TypeScriptParseOptions = ParseOptions.WithPreprocessorSymbols(Parsing.TypeScriptOptions.DefineSymbol);

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

    public static CSharpCompilation Compile(params string[] sources) => Compile(ParseOptions, sources);

    public static CSharpCompilation Compile(CSharpParseOptions parseOptions, params string[] sources) =>
        CSharpCompilation.Create("Contracts",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parseOptions, path: $"Contract{i}.cs"))
                .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, parseOptions, path: "Usings.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

    public static GeneratorDriver CreateDriver(IReadOnlyDictionary<string, string>? buildProperties = null, CSharpParseOptions? parseOptions = null) =>
        CSharpGeneratorDriver.Create([new WampServiceGenerator().AsSourceGenerator()], parseOptions: parseOptions ?? ParseOptions,
            optionsProvider: buildProperties is null ? null : new BuildProperties(buildProperties),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the generated sources by hint name and the output compilation.</summary>
    public static (Dictionary<string, string> Sources, Compilation Output) Generate(params string[] sources) => Generate(ParseOptions, null, sources);

    /// <summary>
    /// Runs the generator as for a project that sets WampTypeScriptOutput, with the MSBuild properties it makes visible
    /// to the compiler (CompilerVisibleProperty, as build_property.NAME).
    /// </summary>
    public static (Dictionary<string, string> Sources, Compilation Output) GenerateWithTypeScript(IReadOnlyDictionary<string, string>? buildProperties, params string[] sources) =>
        Generate(TypeScriptParseOptions, buildProperties, sources);

    private static (Dictionary<string, string> Sources, Compilation Output) Generate(CSharpParseOptions parseOptions, IReadOnlyDictionary<string, string>? buildProperties, string[] sources)
    {
        var compilation = Compile(parseOptions, sources);
        var driver = CreateDriver(buildProperties, parseOptions).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        var result = driver.GetRunResult();
        return (result.GeneratedTrees.ToDictionary(t => Path.GetFileName(t.FilePath), t => t.GetText().ToString()), output);
    }

    /// <summary>The TypeScript files an assembly built from the sources carries, read as the build's tool reads them.</summary>
    public static Dictionary<string, string> TypeScriptFiles(params string[] sources)
    {
        var (_, output) = GenerateWithTypeScript(null, sources);
        using var pe = new MemoryStream();
        var emitted = output.Emit(pe);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        pe.Position = 0;
        var files = WampContracts.TypeScript.TypeScriptFiles.Read(pe);
        Assert.NotNull(files);
        return files.ToDictionary(f => f.Key, f => f.Value);
    }

    private sealed class BuildProperties(IReadOnlyDictionary<string, string> properties) : AnalyzerConfigOptionsProvider
    {
        private readonly Options _global = new(properties);

        public override AnalyzerConfigOptions GlobalOptions => _global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new(new Dictionary<string, string>());

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }

    /// <summary>Errors and warnings of compiling the sources together with what the generator made of them.</summary>
    public static List<Diagnostic> CompileGenerated(params string[] sources)
    {
        var (_, output) = Generate(sources);
        return output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
    }

    /// <summary>The analyzer's diagnostics, ordered by position.</summary>
    public static Task<List<Diagnostic>> AnalyzeAsync(params string[] sources) => AnalyzeAsync(null, sources);

    /// <summary>The analyzer's diagnostics with MSBuild properties visible to it (build_property.NAME), ordered by position.</summary>
    public static async Task<List<Diagnostic>> AnalyzeAsync(IReadOnlyDictionary<string, string>? buildProperties, params string[] sources)
    {
        var compilation = Compile(sources);
        var options = new AnalyzerOptions([], new BuildProperties(buildProperties ?? new Dictionary<string, string>()));
        var withAnalyzers = compilation.WithAnalyzers([new WampContractAnalyzer()], options);
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        return diagnostics.OrderBy(d => d.Location.SourceSpan.Start).ToList();
    }
}
