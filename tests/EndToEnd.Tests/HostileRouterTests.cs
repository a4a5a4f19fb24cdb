using System.Collections.Concurrent;
using System.Text;
using WampContracts.Protocol;

namespace WampContracts.EndToEnd.Tests;

/// <summary>
/// A client under attack by its router: a <see cref="FakeRouter"/> on a real WebSocket sends garbage, answers ids
/// nobody asked for, drips a message byte by byte, sends 50 MiB, closes mid-frame, and sends pathological
/// INVOCATIONs. After each, the client still serves: an INVOCATION of its echo procedure gets its YIELD (on the
/// same connection, or on the one it reconnected with), no call waits past its limit, and no handler error or
/// unobserved task exception surfaces.
/// </summary>
public sealed class HostileRouterTests : IAsyncLifetime
{
    private const long EchoRegistration = 7;

    private readonly ConcurrentQueue<Exception> _handlerErrors = new();
    private FakeRouter _router = null!;
    private WampSession _session = null!;
    private FakeConnection _connection = null!;
    private long _nextInvocation = 100;

    public async Task InitializeAsync()
    {
        _router = await FakeRouter.StartAsync();
        var options = new WampSessionOptions
        {
            Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(100) },
            OnHandlerError = _handlerErrors.Enqueue,
        };
        var joining = WampSession.ConnectAsync(_router.Url, "realm1", options);
        _connection = await _router.AcceptJoinedAsync();
        _session = await joining.WaitAsync(FakeRouter.Bound);
        var registering = _session.RegisterAsync("com.example.echo", static (inv, ct) => ValueTask.FromResult(inv.Payload));
        await AnswerRegistersAsync(_connection, ("com.example.echo", EchoRegistration));
        await registering.WaitAsync(FakeRouter.Bound);
    }

    public async Task DisposeAsync()
    {
        Assert.Empty(_handlerErrors);
        _connection.Finish();
        await _session.DisposeAsync();
        await _router.DisposeAsync();
        var unobserved = WampContracts.Testing.UnobservedExceptions.FromLibrary();
        Assert.True(unobserved.Count == 0, string.Join("\n\n", unobserved));
    }

    private static string Text(ReadOnlyMemory<byte> json) => Encoding.UTF8.GetString(json.Span);

    /// <summary>Reads the REGISTERs the client sends (in any order) and answers each with the given id.</summary>
    private static async Task AnswerRegistersAsync(FakeConnection connection, params (string Procedure, long Id)[] registrations)
    {
        for (int i = 0; i < registrations.Length; i++)
        {
            var register = await connection.ReceiveAsync(WampMessageType.Register);
            long id = registrations.Single(r => r.Procedure == register.Uri).Id;
            await connection.SendAsync($"[65, {register.Id1}, {id}]");
        }
    }

    /// <summary>The client answers an INVOCATION of its echo procedure on <paramref name="connection"/>.</summary>
    private async Task AssertServesAsync(FakeConnection connection, long registration = EchoRegistration)
    {
        long id = Interlocked.Increment(ref _nextInvocation);
        await connection.SendAsync($$"""[68, {{id}}, {{registration}}, {}, ["ping", {{id}}]]""");
        var yield = await connection.ReceiveAsync(WampMessageType.Yield);
        Assert.Equal(id, yield.Id1);
        Assert.Equal($"[\"ping\", {id}]", Text(yield.Payload.ArgumentsJson));
        Assert.True(_session.IsConnected);
    }

    /// <summary>The client closed the connection with ABORT <c>wamp.error.protocol_violation</c>, then reconnected and restored its registration.</summary>
    private async Task<FakeConnection> AssertAbortedAndReconnectedAsync()
    {
        var sent = await _connection.ReceiveUntilClosedAsync();
        Assert.Contains(sent, m => m.Type == WampMessageType.Abort && m.Uri == WampUris.ProtocolViolation);
        var next = await _router.AcceptJoinedAsync();
        await AnswerRegistersAsync(next, ("com.example.echo", EchoRegistration + 1));
        _connection = next;
        return next;
    }

    [Theory]
    [InlineData("this is not JSON")]
    [InlineData("[]")]
    [InlineData("[999, 1]")]
    [InlineData("{\"type\": 50}")]
    [InlineData("[50]")]
    [InlineData("[2, 77, {}]")]
    [InlineData("[68, 1]")]
    public async Task Garbage_after_welcome_closes_that_connection_with_abort_and_the_session_reconnects_and_serves(string garbage)
    {
        await _connection.SendAsync(garbage);
        var next = await AssertAbortedAndReconnectedAsync();
        await AssertServesAsync(next, EchoRegistration + 1);
    }

    [Fact]
    public async Task Answers_to_ids_nobody_used_are_ignored_and_the_session_keeps_serving()
    {
        await _connection.SendAsync("""[50, 987654, {}, [1]]""");                              // RESULT of no call
        await _connection.SendAsync("""[50, 987654, {"progress": true}, [1]]""");              // progress of no call
        await _connection.SendAsync("""[65, 987655, 3]""");                                    // REGISTERED for no REGISTER
        await _connection.SendAsync("""[8, 48, 987656, {}, "wamp.error.runtime_error"]""");    // ERROR of no call
        await _connection.SendAsync("""[36, 4444, 1, {}, [1]]""");                             // EVENT of no subscription
        await _connection.SendAsync("""[69, 4545, {"mode": "kill"}]""");                       // INTERRUPT of no invocation
        await _connection.SendAsync("""[67, 0, {"registration": 999}]""");                     // revocation of no registration
        await AssertServesAsync(_connection);
    }

    [Fact]
    public async Task A_result_dripped_byte_by_byte_completes_its_call_and_one_that_never_ends_times_out_at_its_limit()
    {
        var call = _session.CallAsync("com.example.slow", default, new WampCallOptions { Timeout = TimeSpan.FromSeconds(10) });
        var sent = await _connection.ReceiveAsync(WampMessageType.Call);
        await _connection.SendFragmentsAsync(Encoding.UTF8.GetBytes($$"""[50, {{sent.Id1}}, {}, ["drip", {"n": [1, 2, 3]}]]"""), fragmentSize: 1);
        var result = await call.WaitAsync(FakeRouter.Bound);
        Assert.Equal("""["drip", {"n": [1, 2, 3]}]""", Text(result.Payload.ArgumentsJson));

        var limited = _session.CallAsync("com.example.slow", default, new WampCallOptions { Timeout = TimeSpan.FromMilliseconds(300) });
        var second = await _connection.ReceiveAsync(WampMessageType.Call);
        byte[] message = Encoding.UTF8.GetBytes($$"""[50, {{second.Id1}}, {}, ["never finished"]]""");
        await _connection.SendPartAsync(message[..^1], end: false);
        await Assert.ThrowsAsync<WampTimeoutException>(() => limited.WaitAsync(FakeRouter.Bound));
        await _connection.ReceiveAsync(WampMessageType.Cancel);
        await _connection.SendPartAsync(message[^1..], end: true); // now a late answer, dropped
        await AssertServesAsync(_connection);
    }

    [Fact]
    public async Task A_50_MiB_message_fails_only_the_request_it_answers()
    {
        string big = new('x', 50 * 1024 * 1024);
        var call = _session.CallAsync("com.example.big", default, new WampCallOptions { Timeout = TimeSpan.FromSeconds(10) });
        var sent = await _connection.ReceiveAsync(WampMessageType.Call);
        await _connection.SendAsync($$"""[50, {{sent.Id1}}, {}, ["{{big}}"]]""");
        var e = await Assert.ThrowsAsync<WampException>(() => call.WaitAsync(FakeRouter.Bound));
        Assert.Equal(WampUris.PayloadSizeExceeded, e.Uri);

        await _connection.SendAsync($$"""[68, 55, {{EchoRegistration}}, {}, ["{{big}}"]]""");
        var refused = await _connection.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((68L, 55L, WampUris.PayloadSizeExceeded), (refused.Id1, refused.Id2, refused.Uri));

        await _connection.SendAsync($$"""[36, 4444, 1, {}, ["{{big}}"]]""");
        await AssertServesAsync(_connection);
    }

    [Fact]
    public async Task A_connection_closed_mid_frame_fails_pending_calls_at_once_and_the_session_reconnects()
    {
        var call = _session.CallAsync("com.example.slow", default, new WampCallOptions { Timeout = TimeSpan.FromSeconds(30) });
        var sent = await _connection.ReceiveAsync(WampMessageType.Call);
        await _connection.SendPartAsync(Encoding.UTF8.GetBytes($"[50, {sent.Id1}, {{}}, [\"hal"), end: false);
        _connection.Abort();
        await Assert.ThrowsAsync<WampConnectionException>(() => call.WaitAsync(FakeRouter.Bound));

        var next = await _router.AcceptJoinedAsync();
        await AnswerRegistersAsync(next, ("com.example.echo", EchoRegistration + 1));
        _connection = next;
        await AssertServesAsync(next, EchoRegistration + 1);
    }

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    [Fact]
    public async Task An_invocation_nested_past_the_limit_gets_an_error_and_the_session_keeps_serving()
    {
        // Nesting within the limit is served; past it (90 levels) the invocation alone is refused.
        await _connection.SendAsync($$"""[68, 60, {{EchoRegistration}}, {}, [], {"deep": {{Nested(55)}}}]""");
        Assert.Equal(60, (await _connection.ReceiveAsync(WampMessageType.Yield)).Id1);
        await _connection.SendAsync($$"""[68, 61, {{EchoRegistration}}, {}, [], {"x_wampcontracts": {"timeout_ms": 1000}, "deep": {{Nested(90)}}}]""");
        var error = await _connection.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((68L, 61L, WampUris.InvalidArgument), (error.Id1, error.Id2, error.Uri));
        await _connection.SendAsync($$"""[68, 62, {{EchoRegistration}}, {"x_deep": {{Nested(90)}}}, []]""");
        Assert.Equal(62, (await _connection.ReceiveAsync(WampMessageType.Error)).Id2);
        await AssertServesAsync(_connection);
    }

    [Theory]
    [InlineData("""{"timeout": 5000000000}""", "[]")]
    [InlineData("""{"timeout": 1000000000000000}""", "[]")]
    [InlineData("""{"timeout": 9007199254740992}""", "[]")]
    [InlineData("""{"timeout": 1e15}""", "[]")]
    [InlineData("""{"timeout": -5}""", "[]")]
    [InlineData("""{"timeout": "soon"}""", "[]")]
    [InlineData("""{}""", """[], {"x_wampcontracts": {"timeout_ms": 9000000000000000}}""")]
    [InlineData("""{}""", """[], {"x_wampcontracts": {"timeout_ms": 5000000000, "idempotency_key": 42}}""")]
    public async Task An_invocation_with_an_enormous_or_malformed_time_limit_runs_and_the_session_keeps_serving(string details, string payload)
    {
        await _connection.SendAsync($"[68, 70, {EchoRegistration}, {details}, {payload}]");
        var yield = await _connection.ReceiveAsync(WampMessageType.Yield);
        Assert.Equal(70, yield.Id1);
        await AssertServesAsync(_connection);
    }

    [Fact]
    public async Task A_duplicate_invocation_id_gets_an_error_while_the_first_keeps_running()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registering = _session.RegisterAsync("com.example.wait", async (inv, ct) => { await gate.Task; return inv.Payload; });
        await AnswerRegistersAsync(_connection, ("com.example.wait", 11));
        await registering.WaitAsync(FakeRouter.Bound);

        await _connection.SendAsync("""[68, 5, 11, {}, ["first"]]""");
        await _connection.SendAsync("""[68, 5, 11, {}, ["second"]]""");
        var error = await _connection.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((68L, 5L, WampUris.InvalidArgument), (error.Id1, error.Id2, error.Uri));
        gate.SetResult();
        var yield = await _connection.ReceiveAsync(WampMessageType.Yield);
        Assert.Equal((5L, """["first"]"""), (yield.Id1, Text(yield.Payload.ArgumentsJson)));
        await AssertServesAsync(_connection);
    }

    [Fact]
    public async Task An_invocation_of_an_unknown_registration_gets_no_such_registration()
    {
        await _connection.SendAsync("""[68, 6, 999, {}, []]""");
        var error = await _connection.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((68L, 6L, WampUris.NoSuchRegistration), (error.Id1, error.Id2, error.Uri));
        await AssertServesAsync(_connection);
    }

    [Fact]
    public async Task A_caller_limit_of_sixty_days_goes_out_and_its_call_completes()
    {
        var call = _session.CallAsync("com.example.long", default, new WampCallOptions { Timeout = TimeSpan.FromDays(60) });
        var sent = await _connection.ReceiveAsync(WampMessageType.Call);
        Assert.Equal((long)TimeSpan.FromDays(60).TotalMilliseconds, sent.Dict.GetInt64("timeout"u8));
        await _connection.SendAsync($"[50, {sent.Id1}, {{}}, [\"done\"]]");
        Assert.Equal("""["done"]""", Text((await call.WaitAsync(FakeRouter.Bound)).Payload.ArgumentsJson));
    }

    [Fact]
    public async Task A_goodbye_from_the_router_is_answered_and_the_session_reconnects_and_restores_its_registrations()
    {
        await _connection.SendAsync("""[6, {"message": "restarting"}, "wamp.close.system_shutdown"]""");
        var sent = await _connection.ReceiveUntilClosedAsync();
        Assert.Contains(sent, m => m.Type == WampMessageType.Goodbye && m.Uri == WampUris.GoodbyeAndOut);
        var next = await _router.AcceptJoinedAsync();
        await AnswerRegistersAsync(next, ("com.example.echo", EchoRegistration + 1));
        _connection = next;
        await AssertServesAsync(next, EchoRegistration + 1);
    }

    [Fact]
    public async Task An_answer_of_a_lost_connection_never_reaches_the_next_one_whose_ids_start_again()
    {
        var entered = new SemaphoreSlim(0);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A handler that ignores its token, as user code may.
        var registering = _session.RegisterAsync("com.example.wait", async (inv, ct) => { entered.Release(); await gate.Task; return inv.Payload; });
        await AnswerRegistersAsync(_connection, ("com.example.wait", 11));
        await registering.WaitAsync(FakeRouter.Bound);

        await _connection.SendAsync("""[68, 1, 11, {}, ["old"]]""");
        Assert.True(await entered.WaitAsync(FakeRouter.Bound));
        _connection.Abort();

        var next = await _router.AcceptJoinedAsync();
        await AnswerRegistersAsync(next, ("com.example.echo", EchoRegistration + 1), ("com.example.wait", 12));
        _connection = next;
        // The new connection's router numbers its invocations from 1 again.
        await next.SendAsync("""[68, 1, 12, {}, ["new"]]""");
        Assert.True(await entered.WaitAsync(FakeRouter.Bound));
        gate.SetResult();
        var yield = await next.ReceiveAsync(WampMessageType.Yield);
        Assert.Equal((1L, """["new"]"""), (yield.Id1, Text(yield.Payload.ArgumentsJson)));
        // Nothing of the old invocation follows: the next message is the marker's answer.
        await AssertServesAsync(next, EchoRegistration + 1);
    }
}
