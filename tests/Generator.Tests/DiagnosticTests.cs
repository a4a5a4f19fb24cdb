using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Tests;

/// <summary>Each contract mistake is reported with its ID, at the member, with a message that names it and the fix; and nothing else is reported.</summary>
public class DiagnosticTests
{
    private static Task AssertOnly(string source, params (string Id, string Message, string At)[] expected) => AssertOnly(null, source, expected);

    /// <summary>
    /// Exactly the expected diagnostics, in order of position. The suggestion to take a CancellationToken (WAMP0023, an
    /// Info) counts only in the tests that expect it: the other examples leave tokens out to stay short.
    /// </summary>
    private static async Task AssertOnly(IReadOnlyDictionary<string, string>? buildProperties, string source, params (string Id, string Message, string At)[] expected)
    {
        bool suggestions = expected.Any(e => e.Id == "WAMP0023");
        var diagnostics = (await GeneratorHarness.AnalyzeAsync(buildProperties, source)).Where(d => suggestions || d.Id != "WAMP0023").ToList();
        Assert.True(diagnostics.Count == expected.Length, "reported:\n" + string.Join("\n", diagnostics));
        for (int i = 0; i < expected.Length; i++)
        {
            var d = diagnostics[i];
            Assert.Equal(expected[i].Id, d.Id);
            Assert.Equal(d.Id == "WAMP0023" ? DiagnosticSeverity.Info : DiagnosticSeverity.Error, d.Severity);
            Assert.Equal(expected[i].Message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(expected[i].At, d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan));
        }
    }

    private static string Service(string members, string attribute = "[WampService(\"com.example.svc\")]") => $$"""
        using WampContracts;
        namespace MyApp;
        public sealed record Item(string Name);
        {{attribute}}
        public interface ISvc
        {
        {{members}}
        }
        """;

    [Fact]
    public async Task A_valid_contract_reports_nothing() =>
        await AssertOnly(Service("""
            [Timeout(100), Idempotent] Task<Item> Get(int id, CancellationToken cancellationToken = default);
            [Timeout(100), NoSideEffects] Task<Item> Read(int id, CancellationToken cancellationToken = default);
            Task Register(Item item, [IdempotencyKey] string? key = null);
            IAsyncEnumerable<Item> All();
            ValueTask<int> CountAsync();
            ValueTask Reset();
            """));

    [Fact]
    public async Task WAMP0001_attribute_on_a_class() =>
        await AssertOnly("""
            using WampContracts;
            [WampService("com.example.svc")]
            public class NotAnInterface { }
            """,
            ("WAMP0001", "[WampService] is on 'NotAnInterface', which is not an interface; declare the contract as an interface", "WampService(\"com.example.svc\")"));

    [Fact]
    public async Task WAMP0002_unsupported_return_type() =>
        await AssertOnly(Service("int Count();"),
            ("WAMP0002", "'Count' returns 'int'; return Task, Task<T>, ValueTask, ValueTask<T> or IAsyncEnumerable<T>", "Count"));

    [Fact]
    public async Task WAMP0002_an_event_that_returns_a_value() =>
        await AssertOnly(Service("Task<int> Changed(int x);", "[WampEvents(\"com.example.svc\")]"),
            ("WAMP0002", "'Changed' returns 'System.Threading.Tasks.Task<int>'; return Task or ValueTask: an event carries no answer", "Changed"));

    [Theory]
    [InlineData("ref int x", "ref")]
    [InlineData("out int x", "out")]
    [InlineData("in int x", "in")]
    [InlineData("params int[] x", "params")]
    public async Task WAMP0003_parameter_modifiers(string parameter, string modifier) =>
        await AssertOnly(Service($"Task Do({parameter});"),
            ("WAMP0003", $"Parameter 'x' of 'Do' is declared '{modifier}'; remove the modifier: contract parameters are passed by value", "x"));

    [Fact]
    public async Task WAMP0004_generic_method() =>
        await AssertOnly(Service("Task<T> Get<T>(int id);"),
            ("WAMP0004", "'Get' is generic; remove its type parameters: a WAMP procedure has one fixed signature", "Get"));

    [Fact]
    public async Task WAMP0005_cancellation_token_not_last() =>
        await AssertOnly(Service("Task Get(CancellationToken cancellationToken, int id);"),
            ("WAMP0005", "'Get' has a CancellationToken at position 1; make one CancellationToken the last parameter", "cancellationToken"));

    [Fact]
    public async Task WAMP0006_two_methods_with_one_uri() =>
        await AssertOnly(Service("""
            Task GetItem();
            [WampProcedure("get_item")] Task Fetch();
            """),
            ("WAMP0006", "'Fetch' and 'GetItem' both map to 'com.example.svc.get_item'; give one of them another name with [WampProcedure] or [WampTopic]", "Fetch"));

    [Fact]
    public async Task WAMP0007_two_contracts_with_one_uri() =>
        await AssertOnly("""
            using WampContracts;
            namespace MyApp;
            [WampService("com.example.a")] public interface IA { Task Ping(); }
            [WampService("com.example.b")] public interface IB { [WampProcedure("com.example.a.ping")] Task Other(); }
            """,
            ("WAMP0007", "'MyApp.IB.Other' maps to 'com.example.a.ping', which 'MyApp.IA.Ping' also uses; change a prefix or a name so each URI is used once", "Other"));

    [Fact]
    public async Task WAMP0008_invalid_uri() =>
        await AssertOnly(Service("[WampProcedure(\"Get-Item\")] Task Get();"),
            ("WAMP0008", "'Get' maps to 'com.example.svc.Get-Item', which is not a valid WAMP URI: 'G' is not allowed (use lowercase letters, digits and '_' between dots)", "Get"));

    [Fact]
    public async Task WAMP0008_invalid_prefix_is_reported_once_at_the_attribute() =>
        await AssertOnly(Service("Task Get(); Task Put();", "[WampService(\"com..example\")]"),
            ("WAMP0008", "'ISvc' maps to 'com..example', which is not a valid WAMP URI: it has an empty component", "WampService(\"com..example\")"));

    [Fact]
    public async Task WAMP0009_reserved_prefix() =>
        await AssertOnly(Service("Task Get();", "[WampService(\"wamp.mine\")]"),
            ("WAMP0009", "'ISvc' maps to 'wamp.mine'; URIs starting with 'wamp.' belong to the protocol: use a prefix of your own, such as 'com.example'", "WampService(\"wamp.mine\")"));

    [Fact]
    public async Task WAMP0009_reserved_full_uri_on_a_method() =>
        await AssertOnly(Service("[WampProcedure(\"wamp.session.count\")] Task<int> Count();"),
            ("WAMP0009", "'Count' maps to 'wamp.session.count'; URIs starting with 'wamp.' belong to the protocol: use a prefix of your own, such as 'com.example'", "Count"));

    [Fact]
    public async Task WAMP0010_properties_indexers_and_events() =>
        await AssertOnly(Service("""
            int Count { get; }
            int this[int i] { get; }
            event EventHandler Changed;
            """),
            ("WAMP0010", "'Count' is a property; a contract declares only methods: turn it into a method or move it out of the interface", "Count"),
            ("WAMP0010", "'this[]' is an indexer; a contract declares only methods: turn it into a method or move it out of the interface", "this"),
            ("WAMP0010", "'Changed' is an event; a contract declares only methods: turn it into a method or move it out of the interface", "Changed"));

    [Fact]
    public async Task WAMP0011_two_idempotency_keys() =>
        await AssertOnly(Service("Task Put([IdempotencyKey] string a, [IdempotencyKey] string b);"),
            ("WAMP0011", "'Put' has 2 [IdempotencyKey] parameters; keep one", "Put"));

    [Fact]
    public async Task WAMP0012_idempotency_key_of_another_type() =>
        await AssertOnly(Service("Task Put([IdempotencyKey] int key);"),
            ("WAMP0012", "[IdempotencyKey] parameter 'key' of 'Put' is of type 'int'; make it string or Guid (nullable allowed)", "key"));

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task WAMP0013_timeout_not_positive(int ms) =>
        await AssertOnly(Service($"[Timeout({ms})] Task Get();"),
            ("WAMP0013", $"[Timeout({ms})] on 'Get' is not positive; give a time in milliseconds greater than zero", $"Timeout({ms})"));

    [Fact]
    public async Task WAMP0014_generic_contract() =>
        await AssertOnly("""
            using WampContracts;
            [WampService("com.example.repo")]
            public interface IRepo<T> { Task<T> Get(int id); }
            """,
            ("WAMP0014", "Contract 'IRepo' is generic; declare one non-generic interface per contract", "IRepo"));

    [Fact]
    public async Task WAMP0015_and_WAMP0016_error_types() =>
        await AssertOnly("""
            using WampContracts;
            [WampError("com.example.error.plain")]
            public sealed class PlainException : Exception { }
            [WampError("com.example.error.stuck")]
            public sealed class StuckException : WampException { public StuckException(int id) : base("com.example.error.stuck") { } }
            """,
            ("WAMP0015", "[WampError] type 'PlainException' does not derive from WampContracts.WampException; derive from it so its URI and payload travel", "PlainException"),
            ("WAMP0016", "[WampError] type 'StuckException' cannot be re-created by callers; add a public constructor whose parameters match its public properties by name, a public constructor 'StuckException(WampContracts.WampPayload payload)' or a public parameterless one", "StuckException"));

    [Fact]
    public async Task WAMP0017_private_contract() =>
        await AssertOnly("""
            using WampContracts;
            public class Host
            {
                [WampService("com.example.hidden")]
                private interface IHidden { Task Ping(); }
            }
            """,
            ("WAMP0017", "Contract 'IHidden' is private; make it public or internal so the generated code can implement it", "IHidden"));

    [Fact]
    public async Task WAMP0018_retry_on_a_method_that_is_not_safe_to_repeat() =>
        await AssertOnly(Service("""
            [Retry(MaxAttempts = 4)] Task Charge(decimal amount);
            [Retry, Idempotent] Task<Item> Get(int id);
            [Retry, NoSideEffects] Task<Item> Read(int id);
            [Retry] Task Put(Item item, [IdempotencyKey] string? key = null);
            """),
            ("WAMP0018", "[Retry] on 'Charge' would repeat a call that is not safe to repeat; mark it [NoSideEffects] if it only reads, [Idempotent] if the callee should deduplicate it, or give it an [IdempotencyKey] parameter", "Retry(MaxAttempts = 4)"));

    [Fact]
    public async Task WAMP0019_no_side_effects_on_a_method_that_asks_for_deduplication() =>
        await AssertOnly(Service("""
            [Idempotent, NoSideEffects] Task<Item> Get(int id);
            [NoSideEffects] Task<Item> Find(string name, [IdempotencyKey] string? key = null);
            [NoSideEffects] Task<Item> Read(int id);
            """),
            ("WAMP0019", "[NoSideEffects] on 'Get' contradicts its [Idempotent] attribute: a call without side effects has nothing for the callee to deduplicate; remove [Idempotent] if the call only reads, or [NoSideEffects] if its effects must happen once", "NoSideEffects"),
            ("WAMP0019", "[NoSideEffects] on 'Find' contradicts its [IdempotencyKey] parameter 'key': a call without side effects has nothing for the callee to deduplicate; remove the [IdempotencyKey] parameter if the call only reads, or [NoSideEffects] if its effects must happen once", "NoSideEffects"));

    [Theory]
    [InlineData("(int, string) pair", "(int, string)", "a value tuple such as '(int, string)' is written as {} and read back as default values; declare a record with named properties instead")]
    [InlineData("List<(int Id, string Name)> pairs", "System.Collections.Generic.List<(int Id, string Name)>", "a value tuple such as '(int Id, string Name)' is written as {} and read back as default values; declare a record with named properties instead")]
    [InlineData("System.IO.Stream content", "System.IO.Stream", "'System.IO.Stream' is a stream, which a JSON message cannot hold; pass byte[] (WAMP binary), or return IAsyncEnumerable<byte[]> to send it in chunks")]
    [InlineData("System.IO.MemoryStream content", "System.IO.MemoryStream", "'System.IO.MemoryStream' is a stream, which a JSON message cannot hold; pass byte[] (WAMP binary), or return IAsyncEnumerable<byte[]> to send it in chunks")]
    [InlineData("Func<int, bool> filter", "System.Func<int, bool>", "'System.Func<int, bool>' is a delegate, code that cannot travel in a message; pass the data it works on, or declare a procedure for what it does")]
    [InlineData("int* address", "int*", "'int*' is a pointer, an address that means nothing to another process; pass the value it points to")]
    [InlineData("object value", "object", "'object' holds any value and is read back as a JsonElement, not as the type that was sent; use a concrete type, or JsonElement to carry any JSON")]
    [InlineData("IDictionary<string, object> values", "System.Collections.Generic.IDictionary<string, object>", "'object' holds any value and is read back as a JsonElement, not as the type that was sent; use a concrete type, or JsonElement to carry any JSON")]
    [InlineData("IShape shape", "MyApp.IShape", "'MyApp.IShape' is an interface, which System.Text.Json cannot create when it reads one; use a concrete type, or mark the interface [JsonPolymorphic] with a [JsonDerivedType] for each implementation")]
    [InlineData("IComparable<int> value", "System.IComparable<int>", "'System.IComparable<int>' is an interface, which System.Text.Json cannot create when it reads one; use a concrete type, or mark the interface [JsonPolymorphic] with a [JsonDerivedType] for each implementation")]
    public async Task WAMP0020_a_parameter_type_the_wire_cannot_carry(string parameter, string type, string why) =>
        await AssertOnly(WithShapes($"unsafe Task Put({parameter}, CancellationToken cancellationToken = default);"),
            ("WAMP0020", $"Parameter '{parameter.Split(' ')[^1]}' of 'Put' is of type '{type}': {why}", parameter.Split(' ')[^1]));

    [Theory]
    [InlineData("Task<(int, string)>", "(int, string)", "a value tuple such as '(int, string)' is written as {} and read back as default values; declare a record with named properties instead")]
    [InlineData("ValueTask<System.IO.Stream>", "System.IO.Stream", "'System.IO.Stream' is a stream, which a JSON message cannot hold; pass byte[] (WAMP binary), or return IAsyncEnumerable<byte[]> to send it in chunks")]
    [InlineData("IAsyncEnumerable<Action>", "System.Action", "'System.Action' is a delegate, code that cannot travel in a message; pass the data it works on, or declare a procedure for what it does")]
    [InlineData("Task<IShape[]>", "MyApp.IShape[]", "'MyApp.IShape' is an interface, which System.Text.Json cannot create when it reads one; use a concrete type, or mark the interface [JsonPolymorphic] with a [JsonDerivedType] for each implementation")]
    public async Task WAMP0020_a_result_type_the_wire_cannot_carry(string returns, string type, string why) =>
        await AssertOnly(WithShapes($"{returns} Get(CancellationToken cancellationToken = default);"),
            ("WAMP0020", $"The result of 'Get' is of type '{type}': {why}", "Get"));

    [Fact]
    public async Task WAMP0020_what_the_wire_carries_is_not_reported() =>
        await AssertOnly(WithShapes("""
            Task<IReadOnlyList<Item>> List(IEnumerable<int> ids, IReadOnlyDictionary<string, Item?> byName, ISet<string> tags, CancellationToken cancellationToken = default);
            Task<Tuple<int, string>> Pair(byte[] data, System.Text.Json.JsonElement any, IAnimal animal, int? maybe, CancellationToken cancellationToken = default);
            IAsyncEnumerable<byte[]> Chunks(CancellationToken cancellationToken = default);
            """));

    [Fact]
    public async Task WAMP0020_in_an_events_contract() =>
        await AssertOnly(WithShapes("Task Changed((int, int) range);", "[WampEvents(\"com.example.svc\")]"),
            ("WAMP0020", "Parameter 'range' of 'Changed' is of type '(int, int)': a value tuple such as '(int, int)' is written as {} and read back as default values; declare a record with named properties instead", "range"));

    [Fact]
    public async Task WAMP0016_not_reported_for_an_error_rebuilt_from_its_properties_and_WAMP0020_for_its_data() =>
        await AssertOnly("""
            using WampContracts;
            [WampError("com.example.error.sold_out")]
            public sealed class SoldOutException(string sku, int left) : WampException("com.example.error.sold_out", $"{sku} is sold out")
            {
                public string Sku { get; } = sku;
                public int Left { get; } = left;
            }
            [WampError("com.example.error.range")]
            public sealed class RangeException(int from) : WampException("com.example.error.range")
            {
                public int From { get; } = from;
                public (int, int) Bounds { get; init; }
            }
            """,
            ("WAMP0020", "Property 'Bounds' of 'RangeException' is of type '(int, int)': a value tuple such as '(int, int)' is written as {} and read back as default values; declare a record with named properties instead", "Bounds"));

    /// <summary>A contract beside an interface without a known serialization and one with it.</summary>
    private static string WithShapes(string members, string attribute = "[WampService(\"com.example.svc\")]") => Service(members, attribute) + """

        public interface IShape { double Area { get; } }
        [System.Text.Json.Serialization.JsonPolymorphic, System.Text.Json.Serialization.JsonDerivedType(typeof(Cat), "cat")]
        public interface IAnimal { string Name { get; } }
        public sealed record Cat(string Name) : IAnimal;
        """;

    private static readonly Dictionary<string, string> Aot = new() { ["build_property.EnableAotAnalyzer"] = "true" };

    /// <summary>A contract carrying records, lists, nullable values, enums and a dictionary.</summary>
    private const string Shop = """
        using System.Text.Json.Serialization;
        using WampContracts;
        namespace MyApp;
        public enum Status { Open, Closed }
        public sealed record Line(string Sku, int Quantity);
        public sealed record Order(Guid Id, Status Status, List<Line> Lines, DateTimeOffset? ShippedAt, [property: JsonIgnore] Secret? Secret);
        public sealed record Secret(string Value);
        [WampService("com.example.shop")]
        public interface IShop
        {
            Task<Order> Get(Guid id, CancellationToken cancellationToken = default);
            Task<IReadOnlyList<Order>> Search(Status? status, int limit, CancellationToken cancellationToken = default);
            Task Ship(Order order, CancellationToken cancellationToken = default);
        }
        """;

    [Fact]
    public async Task WAMP0021_a_type_without_json_metadata_in_an_aot_app() =>
        await AssertOnly(Aot, Shop,
            ("WAMP0021", "The result of 'IShop.Get' is of type 'MyApp.Order', which has no source-generated JSON metadata, so this trimmed or Native AOT app would fail the call at run time; add [JsonSerializable(typeof(MyApp.Order))] to a JsonSerializerContext of this project, such as '[JsonSerializable(typeof(MyApp.Order))] internal partial class AppJsonContext : System.Text.Json.Serialization.JsonSerializerContext;'", "Get"),
            ("WAMP0021", "Parameter 'id' of 'IShop.Get' is of type 'System.Guid', which has no source-generated JSON metadata, so this trimmed or Native AOT app would fail the call at run time; add [JsonSerializable(typeof(System.Guid))] to a JsonSerializerContext of this project, such as '[JsonSerializable(typeof(System.Guid))] internal partial class AppJsonContext : System.Text.Json.Serialization.JsonSerializerContext;'", "id"),
            ("WAMP0021", "The result of 'IShop.Search' is of type 'System.Collections.Generic.IReadOnlyList<MyApp.Order>', which has no source-generated JSON metadata, so this trimmed or Native AOT app would fail the call at run time; add [JsonSerializable(typeof(System.Collections.Generic.IReadOnlyList<MyApp.Order>))] to a JsonSerializerContext of this project, such as '[JsonSerializable(typeof(System.Collections.Generic.IReadOnlyList<MyApp.Order>))] internal partial class AppJsonContext : System.Text.Json.Serialization.JsonSerializerContext;'", "Search"),
            ("WAMP0021", "Parameter 'status' of 'IShop.Search' is of type 'MyApp.Status?', which has no source-generated JSON metadata, so this trimmed or Native AOT app would fail the call at run time; add [JsonSerializable(typeof(MyApp.Status?))] to a JsonSerializerContext of this project, such as '[JsonSerializable(typeof(MyApp.Status?))] internal partial class AppJsonContext : System.Text.Json.Serialization.JsonSerializerContext;'", "status"));

    [Fact]
    public async Task WAMP0021_names_the_project_context_and_counts_what_it_reaches() =>
        await AssertOnly(Aot, Shop + """

            [JsonSerializable(typeof(Order))]        // reaches Guid, Status, List<Line>, Line, DateTimeOffset?, not the ignored Secret
            internal partial class ShopJson : JsonSerializerContext;
            """,
            ("WAMP0021", "The result of 'IShop.Search' is of type 'System.Collections.Generic.IReadOnlyList<MyApp.Order>', which has no source-generated JSON metadata, so this trimmed or Native AOT app would fail the call at run time; add [JsonSerializable(typeof(System.Collections.Generic.IReadOnlyList<MyApp.Order>))] to a JsonSerializerContext of this project, such as '[JsonSerializable(typeof(System.Collections.Generic.IReadOnlyList<MyApp.Order>))] internal partial class ShopJson : System.Text.Json.Serialization.JsonSerializerContext;'", "Search"),
            ("WAMP0021", "Parameter 'status' of 'IShop.Search' is of type 'MyApp.Status?', which has no source-generated JSON metadata, so this trimmed or Native AOT app would fail the call at run time; add [JsonSerializable(typeof(MyApp.Status?))] to a JsonSerializerContext of this project, such as '[JsonSerializable(typeof(MyApp.Status?))] internal partial class ShopJson : System.Text.Json.Serialization.JsonSerializerContext;'", "status"));

    [Fact]
    public async Task WAMP0021_nothing_when_every_type_is_covered_or_the_app_is_not_trimmed()
    {
        string covered = Shop + """

            [JsonSerializable(typeof(Order))]
            [JsonSerializable(typeof(IReadOnlyList<Order>))]
            [JsonSerializable(typeof(Status?))]
            internal partial class ShopJson : JsonSerializerContext;
            """;
        await AssertOnly(Aot, covered);
        await AssertOnly(new Dictionary<string, string> { ["build_property.EnableTrimAnalyzer"] = "true" }, covered);
        await AssertOnly(Shop); // reflection serves an app that is not trimmed
    }

    [Fact]
    public async Task WAMP0021_a_context_generated_for_serialization_only_covers_nothing()
    {
        var diagnostics = await GeneratorHarness.AnalyzeAsync(Aot, Shop + """

            [JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Serialization)]
            [JsonSerializable(typeof(Order))]
            internal partial class FastJson : JsonSerializerContext;
            [JsonSerializable(typeof(IReadOnlyList<Order>), GenerationMode = JsonSourceGenerationMode.Serialization)]
            [JsonSerializable(typeof(Status?))]
            internal partial class MixedJson : JsonSerializerContext;
            """);
        // Order and IReadOnlyList<Order> have no metadata (their contexts or entries write only), nor Guid, which only
        // Order's metadata would have reached; Status? has an ordinary entry.
        var missing = diagnostics.Where(d => d.Id == "WAMP0021")
            .Select(d => System.Text.RegularExpressions.Regex.Match(d.GetMessage(), "is of type '([^']+)'").Groups[1].Value)
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["MyApp.Order", "System.Collections.Generic.IReadOnlyList<MyApp.Order>", "System.Guid"], missing);
    }

    [Fact]
    public async Task WAMP0022_get_proxy_of_an_interface_that_is_not_a_contract() =>
        await AssertOnly("""
            using WampContracts;
            namespace MyApp.Billing;
            public interface IInvoices { Task<int> Count(CancellationToken cancellationToken = default); }
            public interface IInvoiceEvents { Task Paid(int id); }
            [WampService("com.example.svc")] public interface ISvc { Task Ping(CancellationToken cancellationToken = default); }
            public sealed class Svc : ISvc { public Task Ping(CancellationToken cancellationToken = default) => Task.CompletedTask; }
            public static class Use
            {
                public static async Task Run(WampSession session)
                {
                    var invoices = session.GetProxy<IInvoices>();
                    var events = session.GetPublisher<IInvoiceEvents>();
                    await session.RegisterAsync<IInvoices>(null!);
                    var fine = session.GetProxy<ISvc>();
                    await session.RegisterAsync(new Svc());
                }
            }
            """,
            ("WAMP0022", "'IInvoices' is passed to GetProxy<T> but is not marked [WampService]; add [WampService(\"prefix\")] to it so the build generates its caller proxy", "IInvoices"),
            ("WAMP0022", "'IInvoiceEvents' is passed to GetPublisher<T> but is not marked [WampEvents]; add [WampEvents(\"prefix\")] to it so the build generates its publisher", "IInvoiceEvents"),
            ("WAMP0022", "'IInvoices' is passed to RegisterAsync<T> but is not marked [WampService]; add [WampService(\"prefix\")] to it so the build generates its callee stub", "IInvoices"));

    [Fact]
    public async Task WAMP0023_a_procedure_without_a_cancellation_token() =>
        await AssertOnly(Service("""
            Task<Item> Get(int id);
            IAsyncEnumerable<Item> All();
            Task<Item> Read(int id, CancellationToken cancellationToken = default);
            """),
            ("WAMP0023", "'Get' takes no CancellationToken; add 'CancellationToken cancellationToken = default' as its last parameter so a caller can cancel the call and the callee sees it", "Get"),
            ("WAMP0023", "'All' takes no CancellationToken; add 'CancellationToken cancellationToken = default' as its last parameter so a caller can cancel the call and the callee sees it", "All"));

    [Fact]
    public async Task WAMP0023_not_for_events() =>
        Assert.Empty(await GeneratorHarness.AnalyzeAsync(Service("Task Changed(int id);", "[WampEvents(\"com.example.svc\")]")));

    [Fact]
    public async Task Invalid_members_are_skipped_and_the_rest_still_compiles()
    {
        var problems = GeneratorHarness.CompileGenerated(Service("""
            Task Good(int x);
            Task<T> Bad<T>(ref int x);
            int Count { get; }
            """));
        Assert.Empty(problems); // only the analyzer's errors remain for the user
    }
}
