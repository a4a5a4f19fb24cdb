using System.Text.Json;
using Microsoft.CodeAnalysis;
using WampContracts.Generator.Parsing;

namespace WampContracts.Generator.Tests;

/// <summary>
/// The TypeScript peers of a compilation, as the build writes them: read out of the compiled assembly with the build
/// tool's reader, and compared with committed snapshots (Snapshots/*.verified.d.ts and *.verified.js).
/// </summary>
public class TypeScriptTests
{
    [Fact]
    public void Every_method_shape_in_TypeScript()
    {
        var files = GeneratorHarness.TypeScriptFiles(SnapshotTests.EveryMethodShape);
        Assert.Equal(["contracts.js", "contracts.d.ts", "wamp-contracts.js", "wamp-contracts.d.ts"], files.Keys);
        SnapshotAssert.MatchesFile(files["contracts.d.ts"], ".d.ts");
        SnapshotAssert.MatchesFile(files["contracts.js"], ".js");
    }

    [Fact]
    public void Data_types_in_TypeScript()
    {
        var files = GeneratorHarness.TypeScriptFiles("""
            using System.Text.Json;
            using System.Text.Json.Serialization;
            using WampContracts;
            namespace Shop;

            [JsonConverter(typeof(JsonStringEnumConverter<Status>))]
            public enum Status { Open, [JsonStringEnumMemberName("on_hold")] OnHold, Closed }
            public enum Priority { Low = 1, High = 5 }

            public sealed record Page<T>(IReadOnlyList<T> Items, int Total, string? Next);
            public sealed record Customer(string Name, Customer? Referrer);

            public class Order
            {
                public Guid Id { get; init; }
                public DateTimeOffset PlacedAt { get; init; }
                public decimal Amount { get; init; }
                public Status Status { get; init; }
                public Priority? Priority { get; init; }
                public Dictionary<string, int> Quantities { get; init; } = new();
                public byte[]? Receipt { get; init; }
                [JsonPropertyName("ref")] public string Reference { get; init; } = "";
                [JsonIgnore] public string Secret { get; init; } = "";
                public Customer Customer { get; init; } = null!;
                public string URLValue { get; init; } = "";
                public JsonElement Extra { get; init; }
                public List<string?> Tags { get; init; } = new();
            }

            [WampService("com.example.shop")]
            public interface IShop
            {
                Task<Page<Order>> Orders(Status status = Status.OnHold, int page = 1, CancellationToken cancellationToken = default);
                Task<Order?> Find(Guid id, CancellationToken cancellationToken = default);
                [Idempotent, Retry(MaxAttempts = 5)]
                Task Cancel(Guid id, string reason = "changed \"mind\"");
            }

            [WampEvents("com.example.shop")]
            public interface IShopEvents
            {
                Task Placed(Order order, string? note = null);
            }

            [WampError("com.example.error.out_of_stock")]
            public sealed class OutOfStockException : WampException
            {
                public OutOfStockException(WampPayload payload) : base("com.example.error.out_of_stock", payload) { }
            }
            """);
        SnapshotAssert.MatchesFile(files["contracts.d.ts"], ".d.ts");
        SnapshotAssert.MatchesFile(files["contracts.js"], ".js");
    }

    [Fact]
    public void A_project_that_does_not_opt_in_gets_no_TypeScript_and_its_specs_describe_no_wire_types()
    {
        var (sources, _) = GeneratorHarness.Generate(SnapshotTests.EveryMethodShape);
        Assert.DoesNotContain(sources.Keys, k => k.Contains("TypeScript", StringComparison.Ordinal));

        // The parse step skips the walk over the types (it costs as much again as the rest of the parse).
        var compilation = GeneratorHarness.Compile(SnapshotTests.EveryMethodShape);
        var spec = (Model.ServiceSpec)GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single()
            .TrackedSteps[StepNames.ParseService].Single().Outputs.Single().Value;
        Assert.Empty(spec.Types);
        Assert.All(spec.Procedures.SelectMany(p => p.Parameters), p => Assert.Null(p.Wire));
        Assert.All(spec.Procedures, p => Assert.Null(p.ResultWire));
    }

    [Fact]
    public void The_module_is_named_after_the_assembly_unless_WampTypeScriptModule_names_it()
    {
        var named = new Dictionary<string, string> { ["build_property.WampTypeScriptModule"] = "ShapesClient" };
        var (sources, _) = GeneratorHarness.GenerateWithTypeScript(named, SnapshotTests.EveryMethodShape);
        string carrier = sources["WampContracts.TypeScript.g.cs"];
        Assert.Contains("internal const string File0 = \"shapes-client.js\";", carrier);
        Assert.Equal("my-app.conferences", TypeScriptOptions.KebabCase("MyApp.Conferences"));
        Assert.Equal("http-api", TypeScriptOptions.KebabCase("HTTPApi"));
    }

    [Theory]
    [InlineData("Name")]
    [InlineData("URLValue")]
    [InlineData("ID")]
    [InlineData("IOStream")]
    [InlineData("PlacedAt")]
    [InlineData("already")]
    [InlineData("X")]
    [InlineData("ABC DEF")]
    [InlineData("A1B")]
    public void Json_names_follow_the_serializers_camelCase_policy(string name) =>
        Assert.Equal(JsonNamingPolicy.CamelCase.ConvertName(name), WireTypeParser.CamelCase(name));

    [Fact]
    public void An_unrelated_edit_leaves_the_TypeScript_module_cached()
    {
        var options = GeneratorHarness.TypeScriptParseOptions;
        var compilation = GeneratorHarness.Compile(options, SnapshotTests.EveryMethodShape, "namespace Other; public static class Helper { public static int F() => 1; }");
        var driver = GeneratorHarness.CreateDriver(null, options).RunGenerators(compilation);
        var old = compilation.SyntaxTrees.ElementAt(1);
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            "namespace Other; public static class Helper { public static int F() => 2; }", options, old.FilePath)));
        var reasons = driver.GetRunResult().Results.Single().TrackedSteps[StepNames.TypeScriptModule].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }
}
