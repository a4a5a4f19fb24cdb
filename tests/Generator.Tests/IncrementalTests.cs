using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using WampContracts.Generator.Model;

namespace WampContracts.Generator.Tests;

/// <summary>The pipeline caches: edits that do not change a contract re-run nothing downstream of the parse step.</summary>
public class IncrementalTests
{
    private const string Contract = """
        using WampContracts;
        namespace MyApp;
        [WampService("com.example.conferences")]
        public interface IConferences
        {
            Task<string> Get(int id);
        }
        """;

    private const string OtherContract = """
        using WampContracts;
        namespace MyApp;
        [WampService("com.example.other")]
        public interface IOther
        {
            Task Ping();
        }
        """;

    private const string Code = """
        namespace MyApp;
        public static class Helper
        {
            public static int Twice(int x) => x * 2;
        }
        """;

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun(params string[] sources)
    {
        var compilation = GeneratorHarness.Compile(sources);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        return (driver, compilation);
    }

    private static List<IncrementalStepRunReason> Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps[step]
            .SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    private static CSharpCompilation Replace(CSharpCompilation compilation, int index, string newText)
    {
        var old = compilation.SyntaxTrees.ElementAt(index);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(newText, GeneratorHarness.ParseOptions, old.FilePath));
    }

    [Fact]
    public void An_unrelated_edit_leaves_the_parsed_contracts_cached()
    {
        var (driver, compilation) = FirstRun(Contract, Code);
        driver = driver.RunGenerators(Replace(compilation, 1, Code.Replace("x * 2", "x + x")));
        Assert.NotEmpty(Reasons(driver, StepNames.ParseService));
        Assert.All(Reasons(driver, StepNames.ParseService), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }

    [Fact]
    public void A_method_body_edit_inside_the_contract_reparses_to_an_unchanged_spec()
    {
        // A body inside the interface (a static helper, not part of the wire contract) changes the node, so the
        // parse step runs again, but its spec is equal: everything downstream stays cached.
        string withBody = Contract.Replace("Task<string> Get(int id);", "Task<string> Get(int id);\n    static int Helper() => 1;");
        var (driver, compilation) = FirstRun(withBody);
        driver = driver.RunGenerators(Replace(compilation, 0, withBody.Replace("=> 1;", "=> 2;")));
        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(driver, StepNames.ParseService));
    }

    [Fact]
    public void An_edit_elsewhere_in_the_contracts_file_keeps_the_spec_cached()
    {
        var (driver, compilation) = FirstRun(Contract + "\nnamespace MyApp { public static class Impl { public static int F() => 1; } }");
        driver = driver.RunGenerators(Replace(compilation, 0, Contract + "\nnamespace MyApp { public static class Impl { public static int F() => 2; } }"));
        Assert.NotEmpty(Reasons(driver, StepNames.ParseService));
        Assert.All(Reasons(driver, StepNames.ParseService), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }

    [Fact]
    public void A_signature_edit_reruns_only_that_service()
    {
        var (driver, compilation) = FirstRun(Contract, OtherContract);
        driver = driver.RunGenerators(Replace(compilation, 0, Contract.Replace("Task<string> Get(int id);", "Task<string> Get(int id, int version);")));
        var reasons = Reasons(driver, StepNames.ParseService);
        Assert.Single(reasons, IncrementalStepRunReason.Modified);
        Assert.Single(reasons, r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void An_edit_that_leaves_the_json_context_as_it_was_keeps_its_registration_cached()
    {
        const string Context = """
            using System.Text.Json.Serialization;
            namespace MyApp;
            [JsonSerializable(typeof(string))]
            internal partial class AppJson : JsonSerializerContext { }
            """;
        var (driver, compilation) = FirstRun(Contract, Context);
        Assert.Single(Reasons(driver, StepNames.ParseJsonContext));
        driver = driver.RunGenerators(Replace(compilation, 1, Context.Replace("{ }", "{ static int Unused() => 1; }")));
        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(driver, StepNames.ParseJsonContext));
    }

    [Fact]
    public void Parsing_the_same_source_twice_yields_equal_specs()
    {
        var first = FirstRun(Contract).Driver.GetRunResult().Results.Single().TrackedSteps[StepNames.ParseService].Single().Outputs.Single().Value;
        var second = FirstRun(Contract).Driver.GetRunResult().Results.Single().TrackedSteps[StepNames.ParseService].Single().Outputs.Single().Value;
        Assert.Equal(first, second);
        Assert.NotSame(first, second);
    }

    [Fact]
    public void The_spec_graph_holds_no_symbol_syntax_or_compilation()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(Compilation), typeof(SemanticModel), typeof(Location) };
        var seen = new HashSet<Type>();
        void Walk(Type type)
        {
            if (!seen.Add(type) || type.IsPrimitive || type == typeof(string) || type.IsEnum) return;
            Assert.DoesNotContain(forbidden, f => f.IsAssignableFrom(type));
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                Walk(p.PropertyType);
            if (type.IsGenericType)
                foreach (var a in type.GetGenericArguments()) Walk(a);
        }
        Walk(typeof(ServiceSpec));
        Walk(typeof(ErrorSpec));
        Walk(typeof(JsonContextSpec));
        Assert.Contains(typeof(ParameterSpec), seen);
        Assert.Contains(typeof(ErrorPropertySpec), seen);
    }

    [Fact]
    public void Equatable_arrays_compare_by_element()
    {
        var a = new[] { "x", "y" }.Select(s => new SkippedMemberSpec(s, "WAMP0001", "")).ToEquatableArray();
        var b = new[] { "x", "y" }.Select(s => new SkippedMemberSpec(s, "WAMP0001", "")).ToEquatableArray();
        var c = new[] { "y", "x" }.Select(s => new SkippedMemberSpec(s, "WAMP0001", "")).ToEquatableArray();
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
        Assert.Equal(default(EquatableArray<SkippedMemberSpec>), EquatableArray<SkippedMemberSpec>.Empty);
        Assert.Equal(0, default(EquatableArray<SkippedMemberSpec>).Count);
    }
}
