using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using WampContracts;
using WampContracts.Generator;

// Generator time for a large contract set: SERVICES interfaces of METHODS methods each (default 200 x 10).
// Reports the generator's own elapsed time (GeneratorDriver timing) for a full run and for an incremental
// run after a one-method edit. With "typescript" the project is one that sets WampTypeScriptOutput (the generator then
// also describes the types and emits the TypeScript module).
// Usage: dotnet run -c Release --project bench/GeneratorBench [SERVICES] [METHODS] [RUNS] [typescript]
int services = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
int methods = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
int runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 7;
bool typeScript = args.Length > 3 && args[3] == "typescript";

var parse = new CSharpParseOptions(LanguageVersion.Latest);
if (typeScript) parse = parse.WithPreprocessorSymbols("WAMPCONTRACTS_TYPESCRIPT"); // as WampContracts.TypeScript.targets defines it
var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
    .Append(typeof(WampSession).Assembly.Location).Distinct().Select(p => MetadataReference.CreateFromFile(p)).ToArray();

var trees = new List<SyntaxTree>
{
    CSharpSyntaxTree.ParseText("global using System; global using System.Collections.Generic; global using System.Threading; global using System.Threading.Tasks;", parse),
};
for (int s = 0; s < services; s++) trees.Add(CSharpSyntaxTree.ParseText(Service(s, methods), parse, path: $"Service{s}.cs"));
var compilation = CSharpCompilation.Create("Bench", trees, references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

var full = new List<double>();
var fullWall = new List<double>();
var incremental = new List<double>();
int generated = 0;
for (int run = 0; run < runs + 1; run++) // the first run warms up the JIT and is not counted
{
    GeneratorDriver driver = CSharpGeneratorDriver.Create([new WampServiceGenerator().AsSourceGenerator()], parseOptions: parse);
    var wall = Stopwatch.StartNew();
    driver = driver.RunGenerators(compilation);
    wall.Stop();
    var first = driver.GetTimingInfo().ElapsedTime;
    generated = driver.GetRunResult().GeneratedTrees.Length;

    var edited = compilation.ReplaceSyntaxTree(trees[1], CSharpSyntaxTree.ParseText(Service(0, methods).Replace("int a0)", "int a0, int extra)"), parse, path: "Service0.cs"));
    var clock = Stopwatch.StartNew();
    driver = driver.RunGenerators(edited);
    clock.Stop();
    // The driver's timing adds up over its runs: the second run's own time is the difference.
    var second = driver.GetTimingInfo().ElapsedTime - first;
    if (run == 0) continue;
    full.Add(first.TotalMilliseconds);
    fullWall.Add(wall.Elapsed.TotalMilliseconds);
    incremental.Add(second.TotalMilliseconds);
}

var check = CSharpGeneratorDriver.Create([new WampServiceGenerator().AsSourceGenerator()], parseOptions: parse)
    .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
var errors = output.GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
Console.WriteLine($"contracts: {services} services x {methods} methods = {services * methods} procedures{(typeScript ? ", with TypeScript peers" : "")}; {generated} files generated; {errors} compile errors in the result");
Console.WriteLine($"full generation:        median {Median(full):0.0} ms, min {full.Min():0.0} ms, max {full.Max():0.0} ms over {runs} runs");
Console.WriteLine($"full generation, wall clock of RunGenerators (includes the compiler's binding): median {Median(fullWall):0.0} ms");
Console.WriteLine($"after a one-method edit: median {Median(incremental):0.0} ms, min {incremental.Min():0.0} ms, max {incremental.Max():0.0} ms");
return errors == 0 ? 0 : 1;

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string Service(int s, int methods)
{
    var sb = new StringBuilder();
    sb.AppendLine("using WampContracts;");
    sb.AppendLine($"namespace Bench.S{s};");
    sb.AppendLine($"public sealed record Item{s}(string Name, int Value, DateTimeOffset At);");
    sb.AppendLine($"[WampService(\"com.bench.s{s}\")]");
    sb.AppendLine($"public interface IService{s}");
    sb.AppendLine("{");
    for (int m = 0; m < methods; m++)
    {
        sb.AppendLine((m % 5) switch
        {
            0 => $"    [Timeout(1000), Idempotent] Task<Item{s}> Get{m}(int a0, CancellationToken cancellationToken = default);",
            1 => $"    Task<IReadOnlyList<Item{s}>> Search{m}(string city, int limit = 10, CancellationToken cancellationToken = default);",
            2 => $"    Task Put{m}(Item{s} item, [IdempotencyKey] string? key = null);",
            3 => $"    IAsyncEnumerable<Item{s}> Stream{m}(string source, CancellationToken cancellationToken = default);",
            _ => $"    ValueTask<int> Count{m}(string? filter = null);",
        });
    }
    sb.AppendLine("}");
    return sb.ToString();
}
