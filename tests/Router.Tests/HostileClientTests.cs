using System.Net.WebSockets;
using System.Text;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

/// <summary>
/// The router under attack by raw clients on real WebSockets: garbage, ids nobody issued, messages dripped byte by
/// byte, 50 MiB messages, connections closed mid-frame, pathological CALLs and HELLOs. The offending session gets a
/// clear answer (ERROR for that request, or ABORT and a close), a well-behaved caller/callee pair on the same router
/// keeps working, and the router logs no unexpected failure.
/// </summary>
public sealed class HostileClientTests : IAsyncLifetime
{
    private readonly CapturingLoggerFactory _log = new();
    private WampRouter _router = null!;
    private WampSession _caller = null!;
    private WampSession _callee = null!;
    private int _pings;

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions { LoggerFactory = _log });
        _callee = await WampSession.ConnectAsync(_router.Url!, "realm1");
        await _callee.RegisterAsync("com.example.echo", static (inv, ct) => ValueTask.FromResult(inv.Payload));
        _caller = await WampSession.ConnectAsync(_router.Url!, "realm1");
    }

    public async Task DisposeAsync()
    {
        // The router never failed unexpectedly (event 2004); what it refused, it refused on purpose.
        Assert.DoesNotContain(_log.Entries, e => e.Id.Id == 2004);
        await _caller.DisposeAsync();
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
        var unobserved = WampContracts.Testing.UnobservedExceptions.FromLibrary();
        Assert.True(unobserved.Count == 0, string.Join("\n\n", unobserved));
    }

    private async Task AssertPairServesAsync()
    {
        int n = Interlocked.Increment(ref _pings);
        var result = await _caller.CallAsync("com.example.echo", WampPayload.FromJson($"[\"ping\", {n}]")).WaitAsync(SocketClient.Bound);
        Assert.Equal($"[\"ping\", {n}]", Encoding.UTF8.GetString(result.Payload.ArgumentsJson.Span));
    }

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    [Theory]
    [InlineData("this is not JSON")]
    [InlineData("[]")]
    [InlineData("[999, 1]")]
    [InlineData("{\"type\": 48}")]
    [InlineData("[48]")]
    [InlineData("[48, \"one\", {}, \"com.example.echo\"]")]
    [InlineData("[1, \"realm1\", {\"roles\": {\"caller\": {}}}]")]
    [InlineData("[70, 424242, {}]")]
    [InlineData("[8, 68, 424242, {}, \"wamp.error.runtime_error\"]")]
    [InlineData("[8, 48, 1, {}, \"wamp.error.runtime_error\"]")]
    [InlineData("[64, 0, {}, \"com.example.zero\"]")]
    [InlineData("[16, 0, {}, \"com.example.zero\"]")]
    [InlineData("[48, 1, {}, \"com.example.\\uD800\"]")]
    [InlineData("[64, 1, {\"match\": \"prefix\\uDBFF\"}, \"com.example\"]")]
    public async Task Garbage_or_ids_nobody_issued_get_abort_and_the_pair_keeps_serving(string garbage)
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync(garbage);
        await attacker.AssertAbortedAsync();
        await AssertPairServesAsync();
        Assert.Contains(_log.Entries, e => e.Id.Id == 2002); // the violation was logged
    }

    [Fact]
    public async Task Requests_about_unknown_registrations_subscriptions_and_calls_get_errors_or_are_ignored()
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync("[66, 1, 4242]");
        Assert.Equal(WampUris.NoSuchRegistration, (await attacker.ReceiveAsync(WampMessageType.Error)).Uri);
        await attacker.SendAsync("[34, 2, 4242]");
        Assert.Equal(WampUris.NoSuchSubscription, (await attacker.ReceiveAsync(WampMessageType.Error)).Uri);
        await attacker.SendAsync("""[49, 4242, {"mode": "kill"}]""");
        await attacker.SendAsync("""[48, 3, {}, "com.example.none"]""");
        Assert.Equal((3L, WampUris.NoSuchProcedure), ((await attacker.ReceiveAsync(WampMessageType.Error)).Id2, WampUris.NoSuchProcedure));
        await AssertPairServesAsync();
    }

    [Fact]
    public async Task A_call_dripped_byte_by_byte_is_routed()
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        byte[] call = Encoding.UTF8.GetBytes("""[48, 1, {}, "com.example.echo", ["dripped"]]""");
        for (int i = 0; i < call.Length; i++) await attacker.SendPartAsync(call[i..(i + 1)], end: i == call.Length - 1);
        var result = await attacker.ReceiveAsync(WampMessageType.Result);
        Assert.Equal("""["dripped"]""", Encoding.UTF8.GetString(result.Payload.ArgumentsJson.Span));
        await AssertPairServesAsync();
    }

    [Fact]
    public async Task A_50_MiB_call_is_refused_alone_and_its_session_goes_on()
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        string big = new('x', 50 * 1024 * 1024);
        await attacker.SendAsync($$"""[48, 1, {}, "com.example.echo", ["{{big}}"]]""");
        var error = await attacker.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((48L, 1L, WampUris.PayloadSizeExceeded), (error.Id1, error.Id2, error.Uri));
        await attacker.SendAsync("""[48, 2, {}, "com.example.echo", ["small"]]""");
        Assert.Equal(2, (await attacker.ReceiveAsync(WampMessageType.Result)).Id1);
        await AssertPairServesAsync();
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("9007199254740993")]
    public async Task An_oversized_call_with_a_request_id_out_of_range_is_aborted(string id)
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        string big = new('x', 5 * 1024 * 1024);
        await attacker.SendAsync($$"""[48, {{id}}, {}, "com.example.echo", ["{{big}}"]]""");
        await attacker.AssertAbortedAsync(WampUris.PayloadSizeExceeded);
        await AssertPairServesAsync();
    }

    [Fact]
    public async Task A_callee_closed_mid_frame_leaves_and_its_caller_gets_an_error_at_once()
    {
        var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync("""[64, 1, {}, "com.example.fragile"]""");
        await attacker.ReceiveAsync(WampMessageType.Registered);
        var call = _caller.CallAsync("com.example.fragile");
        var invocation = await attacker.ReceiveAsync(WampMessageType.Invocation);
        await attacker.SendPartAsync(Encoding.UTF8.GetBytes($"[70, {invocation.Id1}, {{}}, [\"hal"), end: false);
        attacker.Abort();
        var e = await Assert.ThrowsAsync<WampException>(() => call.WaitAsync(SocketClient.Bound));
        Assert.Equal(WampUris.Canceled, e.Uri);
        // Its registration went with it.
        await using var next = await _callee.RegisterAsync("com.example.fragile", static (inv, ct) => ValueTask.FromResult(inv.Payload));
        await AssertPairServesAsync();
        await attacker.DisposeAsync();
    }

    [Theory]
    [InlineData("""[48, 1, {}, "com.example.echo", [], {"deep": DEEP}]""", 48)]
    [InlineData("""[48, 1, {"x_meta": DEEP}, "com.example.echo", []]""", 48)]
    [InlineData("""[16, 1, {"acknowledge": true, "exclude": [DEEP]}, "com.example.topic"]""", 16)]
    [InlineData("""[64, 1, {"x_meta": DEEP}, "com.example.deep"]""", 64)]
    [InlineData("""[32, 1, {"x_meta": DEEP}, "com.example.deep"]""", 32)]
    public async Task A_request_nested_past_the_limit_gets_an_error_and_its_session_goes_on(string template, int requestType)
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync(template.Replace("DEEP", Nested(90)));
        var error = await attacker.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((requestType, 1L, WampUris.InvalidArgument), ((int)error.Id1, error.Id2, error.Uri));
        await attacker.SendAsync("""[48, 2, {}, "com.example.echo", ["after"]]""");
        Assert.Equal(2, (await attacker.ReceiveAsync(WampMessageType.Result)).Id1);
        await AssertPairServesAsync();
    }

    [Theory]
    [InlineData("5000000000")]
    [InlineData("1000000000000000")]
    [InlineData("9007199254740992")]
    [InlineData("9223372036854775807")]
    public async Task A_call_with_an_enormous_timeout_is_routed(string timeout)
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync($$"""[48, 1, {"timeout": {{timeout}}}, "com.example.echo", ["patient"]]""");
        Assert.Equal(1, (await attacker.ReceiveAsync(WampMessageType.Result)).Id1);
        await AssertPairServesAsync();
    }

    [Theory]
    [InlineData("1e15")]
    [InlineData("-1")]
    [InlineData("2.5")]
    [InlineData("\"soon\"")]
    public async Task A_call_with_a_malformed_timeout_gets_invalid_argument(string timeout)
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync($$"""[48, 1, {"timeout": {{timeout}}}, "com.example.echo", []]""");
        var error = await attacker.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((1L, WampUris.InvalidArgument), (error.Id2, error.Uri));
        await AssertPairServesAsync();
    }

    [Theory]
    [InlineData("""{"roles": []}""")]
    [InlineData("""{"roles": {}}""")]
    [InlineData("""{"roles": {"janitor": {}}}""")]
    [InlineData("""{"roles": {"caller": true}}""")]
    [InlineData("""{}""")]
    public async Task A_hello_without_a_role_is_aborted(string details)
    {
        await using var attacker = await SocketClient.ConnectAsync(_router.Url!);
        await attacker.SendAsync($"""[1, "realm1", {details}]""");
        await attacker.AssertAbortedAsync();
        await AssertPairServesAsync();
    }

    [Theory]
    [InlineData("""[64, 1, {}, "com.example.a\u0000b"]""")]
    [InlineData("""[48, 1, {}, "com.example.\u0001"]""")]
    [InlineData("""[32, 1, {}, "com.example.\u001f"]""")]
    public async Task A_uri_with_a_control_character_is_refused(string request)
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync(request);
        Assert.Equal(WampUris.InvalidUri, (await attacker.ReceiveAsync(WampMessageType.Error)).Uri);
        await AssertPairServesAsync();
    }

    [Fact]
    public async Task A_realm_name_with_nul_is_aborted()
    {
        await using var attacker = await SocketClient.ConnectAsync(_router.Url!);
        await attacker.SendAsync("""[1, "realm\u00001", {"roles": {"caller": {}}}]""");
        await attacker.AssertAbortedAsync(WampUris.InvalidUri);
    }

    [Fact]
    public async Task A_binary_frame_on_wamp_2_json_is_aborted()
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        await attacker.SendAsync(Encoding.UTF8.GetBytes("""[48, 1, {}, "com.example.echo", []]"""), WebSocketMessageType.Binary);
        await attacker.AssertAbortedAsync();
        await AssertPairServesAsync();
    }

    [Fact]
    public async Task An_error_quotes_at_most_200_characters_of_a_hostile_uri()
    {
        await using var attacker = await SocketClient.JoinAsync(_router.Url!);
        string uri = "com.example." + new string('x', 1_000_000) + "#";
        await attacker.SendAsync($$"""[64, 1, {}, "{{uri}}"]""");
        var error = await attacker.ReceiveAsync(WampMessageType.Error);
        Assert.Equal(WampUris.InvalidUri, error.Uri);
        Assert.InRange(error.Payload.ArgumentsJson.Length, 1, 400);
        await AssertPairServesAsync();
    }
}
