using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Tests;

/// <summary>Each contract mistake is reported with its ID, at the member, with a message that names it and the fix; and nothing else is reported.</summary>
public class DiagnosticTests
{
    private static async Task AssertOnly(string source, params (string Id, string Message, string At)[] expected)
    {
        var diagnostics = await GeneratorHarness.AnalyzeAsync(source);
        Assert.True(diagnostics.Count == expected.Length, "reported:\n" + string.Join("\n", diagnostics));
        for (int i = 0; i < expected.Length; i++)
        {
            var d = diagnostics[i];
            Assert.Equal(expected[i].Id, d.Id);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
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
            ("WAMP0016", "[WampError] type 'StuckException' cannot be re-created by callers; add a public constructor 'StuckException(WampContracts.WampPayload payload)' or a public parameterless one", "StuckException"));

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
