using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Tests;

/// <summary>The generated source of one small contract per test, compared with its committed snapshot.</summary>
public class SnapshotTests
{
    /// <param name="compiles">
    /// False where the generated code names what System.Text.Json's own generator declares, which this harness does not
    /// run (tests/Aot.Tests builds such code for real).
    /// </param>
    private static string GenerateSingle(string source, string hintSuffix, bool compiles = true)
    {
        var (sources, output) = GeneratorHarness.Generate(source);
        // The generated code compiles cleanly (nullable on, every warning counted) along with the contract.
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        if (compiles) Assert.True(problems.Count == 0, string.Join("\n", problems));
        return Assert.Single(sources, s => s.Key.EndsWith(hintSuffix, StringComparison.Ordinal)).Value;
    }

    [Fact]
    public void Service_with_timeout_idempotency_and_a_renamed_procedure() => SnapshotAssert.Matches(GenerateSingle("""
        using WampContracts;
        namespace MyApp;
        public sealed record Conference(string Name, string Where, int Id);

        [WampService("com.example.conferences")]
        public interface IConferences
        {
            [Timeout(2000), Idempotent]
            Task<Conference> Get(int id, CancellationToken cancellationToken = default);

            [WampProcedure("search_by_city")]
            Task<IReadOnlyList<Conference>> Search(string city, int limit = 10, CancellationToken cancellationToken = default);
        }
        """, "MyApp.IConferences.WampContract.g.cs"));

    [Fact]
    public void Reads_without_side_effects_and_deduplicated_writes() => SnapshotAssert.Matches(GenerateSingle("""
        using WampContracts;
        namespace MyApp;
        public sealed record Conference(string Name, string Where, int Id);

        [WampService("com.example.conferences")]
        public interface IConferences
        {
            [Timeout(2000), NoSideEffects]
            Task<Conference> Get(int id, CancellationToken cancellationToken = default);

            [Retry(MaxAttempts = 5), NoSideEffects]
            Task<IReadOnlyList<Conference>> List(CancellationToken cancellationToken = default);

            [Retry, Idempotent]
            Task<Conference> Update(int id, string where, CancellationToken cancellationToken = default);
        }
        """, "MyApp.IConferences.WampContract.g.cs"));

    /// <summary>One method of each shape: also the contract of the TypeScript snapshot (TypeScriptTests).</summary>
    internal const string EveryMethodShape = """
        using WampContracts;
        namespace Shapes;
        public enum Level { Low, High }

        [WampService("com.example.shapes"), Timeout(500)]
        public interface IShapes
        {
            Task Ping();
            ValueTask Reset(Level level = Level.High);
            ValueTask<int> CountAsync(string? filter = null, CancellationToken cancellationToken = default);
            IAsyncEnumerable<string> Watch(string topic, CancellationToken cancellationToken = default);
            [WampProcedure("org.other.full_uri")]
            Task<byte[]?> Download(Guid id, [IdempotencyKey] Guid? key = null);
        }
        """;

    [Fact]
    public void Every_method_shape() => SnapshotAssert.Matches(GenerateSingle(EveryMethodShape, "Shapes.IShapes.WampContract.g.cs"));

    [Fact]
    public void Events_contract() => SnapshotAssert.Matches(GenerateSingle("""
        using WampContracts;
        namespace MyApp;
        public sealed record Conference(string Name, string Where, int Id);

        [WampEvents("com.example.conferences")]
        public interface IConferenceEvents
        {
            Task Updated(Conference conference);
            [WampTopic("removed")]
            ValueTask Deleted(int id, string? reason = null, CancellationToken cancellationToken = default);
        }
        """, "MyApp.IConferenceEvents.WampContract.g.cs"));

    [Fact]
    public void Error_type_rebuilt_from_its_payload() => SnapshotAssert.Matches(GenerateSingle("""
        using WampContracts;
        namespace MyApp;

        [WampError("com.example.error.not_found")]
        public sealed class ConferenceNotFoundException : WampException
        {
            public ConferenceNotFoundException(int id) : base("com.example.error.not_found", $"conference {id} not found") { }
            public ConferenceNotFoundException(WampPayload payload) : base("com.example.error.not_found", payload) { }
        }
        """, "MyApp.ConferenceNotFoundException.WampError.g.cs"));

    [Fact]
    public void Error_type_with_data_properties() => SnapshotAssert.Matches(GenerateSingle("""
        using System.Text.Json.Serialization;
        using WampContracts;
        namespace MyApp;

        [WampError("com.example.error.sold_out")]
        public sealed class SoldOutException(string sku, int left) : WampException("com.example.error.sold_out", $"{sku} is sold out")
        {
            public string Sku { get; } = sku;
            public int Left { get; } = left;
            [JsonPropertyName("restock_on")] public DateOnly? RestockOn { get; init; }
        }
        """, "MyApp.SoldOutException.WampError.g.cs"));

    [Fact]
    public void Json_context_registered_for_contract_types() => SnapshotAssert.Matches(GenerateSingle("""
        using System.Text.Json.Serialization;
        using WampContracts;
        namespace MyApp;

        public sealed record Conference(string Name, string Where, int Id);

        [JsonSerializable(typeof(Conference))]
        internal partial class AppJson : JsonSerializerContext;
        """, "MyApp.AppJson.WampJsonContext.g.cs", compiles: false));

    [Fact]
    public void Invalid_members_are_left_out_with_a_comment() => SnapshotAssert.Matches(GenerateSingle("""
        using WampContracts;
        namespace MyApp;

        [WampService("com.example.partial")]
        internal interface IPartial
        {
            Task Good(int x);
            int Count { get; }
            Task Bad(ref int x);
        }
        """, "MyApp.IPartial.WampContract.g.cs"));

    [Fact]
    public void Nested_contract_in_the_global_namespace() => SnapshotAssert.Matches(GenerateSingle("""
        using WampContracts;
        public static class Outer
        {
            [WampService("com.example.nested")]
            public interface INested
            {
                Task<string> Echo(string text);
            }
        }
        """, "Outer-INested.WampContract.g.cs"));

    [Fact]
    public void Generation_is_deterministic_and_orders_procedures_by_uri()
    {
        const string source = """
            using WampContracts;
            namespace MyApp;
            [WampService("com.example.order")]
            public interface IOrder
            {
                Task Zeta();
                Task Alpha();
                [WampProcedure("middle")] Task Aardvark();
            }
            """;
        string first = GeneratorHarness.Generate(source).Sources.Single().Value;
        string second = GeneratorHarness.Generate(source).Sources.Single().Value;
        Assert.Equal(first, second);
        int alpha = first.IndexOf("\"com.example.order.alpha\"", StringComparison.Ordinal);
        int middle = first.IndexOf("\"com.example.order.middle\"", StringComparison.Ordinal);
        int zeta = first.IndexOf("\"com.example.order.zeta\"", StringComparison.Ordinal);
        Assert.True(alpha < middle && middle < zeta);
    }

    [Fact]
    public void Contracts_whose_names_differ_only_in_dots_and_underscores_get_distinct_classes()
    {
        // A.B_C and A_B.C (and A.Outer_IX beside a nested A.Outer.IX) were once mangled to the same class name.
        var (sources, output) = GeneratorHarness.Generate("""
            using WampContracts;
            namespace A { [WampService("com.example.one")] public interface B_C { Task<int> Get(); } }
            namespace A_B { [WampService("com.example.two")] public interface C { Task<int> Get(); } }
            namespace A { public static class Outer { [WampService("com.example.three")] public interface IX { Task<int> Get(); } } }
            namespace A { [WampService("com.example.four")] public interface Outer_IX { Task<int> Get(); } }
            """);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(4, sources.Count(s => s.Key.EndsWith(".WampContract.g.cs", StringComparison.Ordinal)));
    }
}
