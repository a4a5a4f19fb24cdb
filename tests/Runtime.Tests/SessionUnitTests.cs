using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;

namespace WampContracts.Tests;

public class SessionUnitTests
{
    private static string Text(ReadOnlyMemory<byte> json) => Encoding.UTF8.GetString(json.Span);

    [Fact]
    public async Task Hello_announces_the_four_roles_and_the_features_the_runtime_implements()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1");
        var hello = await router.ReceiveAsync(WampMessageType.Hello);
        Assert.Equal("realm1", hello.Uri);
        using var details = JsonDocument.Parse(hello.Dict.Json);
        var roles = details.RootElement.GetProperty("roles");
        Assert.True(roles.GetProperty("caller").GetProperty("features").GetProperty("call_canceling").GetBoolean());
        Assert.True(roles.GetProperty("caller").GetProperty("features").GetProperty("progressive_call_results").GetBoolean());
        Assert.True(roles.GetProperty("callee").GetProperty("features").GetProperty("shared_registration").GetBoolean());
        Assert.True(roles.GetProperty("publisher").GetProperty("features").GetProperty("publisher_exclusion").GetBoolean());
        Assert.True(roles.GetProperty("subscriber").GetProperty("features").GetProperty("pattern_based_subscription").GetBoolean());
        Assert.StartsWith("WampContracts/", details.RootElement.GetProperty("agent").GetString());

        router.Send("""[2, 777, {"roles": {"dealer": {}}}]""");
        var session = await join.WaitAsync(ScriptedRouter.Bound);
        Assert.Equal(777, session.SessionId);
        Assert.True(session.IsConnected);
        router.Crash();
        await session.Completion.WaitAsync(ScriptedRouter.Bound);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task Abort_in_answer_to_hello_throws_with_the_reason_uri()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "nope");
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send("""[3, {"message": "The realm does not exist."}, "wamp.error.no_such_realm"]""");
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wamp.error.no_such_realm", e.Reason);
        Assert.Contains("The realm does not exist.", e.Message);
    }

    [Fact]
    public async Task A_router_that_never_welcomes_fails_the_join_after_the_connect_timeout()
    {
        var clock = new FakeTimeProvider();
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", new WampSessionOptions { ConnectTimeout = TimeSpan.FromSeconds(3), TimeProvider = clock });
        await router.ReceiveAsync(WampMessageType.Hello);
        Assert.False(join.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(3));
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.Contains("within 3000 ms", e.Message);
    }

    [Fact]
    public async Task A_call_sends_sequential_request_ids_and_returns_the_result_payload()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close

        var first = session.CallAsync("com.example.conferences.get", WampPayload.FromJson("[123]"), new WampCallOptions { Timeout = TimeSpan.FromMilliseconds(60_000) });
        var second = session.CallAsync("com.example.echo");
        var call1 = await router.ReceiveAsync(WampMessageType.Call);
        var call2 = await router.ReceiveAsync(WampMessageType.Call);
        Assert.Equal((1L, 2L), (call1.Id1, call2.Id1));
        Assert.Equal("com.example.conferences.get", call1.Uri);
        Assert.Equal("[123]", Text(call1.Payload.ArgumentsJson));
        Assert.Equal(60000, call1.Dict.GetInt64("timeout"u8));
        Assert.Equal(30000, call2.Dict.GetInt64("timeout"u8)); // the session's default limit

        // Results may come back in any order.
        router.Send("""[50, 2, {}]""");
        router.Send("""[50, 1, {}, [{"name": "deSymfony", "where": "Madrid", "id": 123}], null]""");
        var r1 = await first.WaitAsync(ScriptedRouter.Bound);
        var r2 = await second.WaitAsync(ScriptedRouter.Bound);
        Assert.Equal(new Conference("deSymfony", "Madrid", 123), r1.Payload.GetArgument(0, TestJsonContext.Default.Conference));
        Assert.False(r2.Payload.HasArguments);
    }

    [Fact]
    public async Task Calls_answered_in_any_order_each_get_their_own_answer_and_a_finished_calls_token_reaches_no_later_call()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close

        // A call with a token ends cleanly; its object may serve the next call. Firing the old token afterwards must
        // not cancel that next call: no CANCEL goes out, and the next call gets its own result.
        using var first = new CancellationTokenSource();
        var one = session.CallAsync("com.example.echo", WampPayload.FromJson("[1]"), cancellationToken: first.Token);
        router.Send($$"""[50, {{(await router.ReceiveAsync(WampMessageType.Call)).Id1}}, {}, [1]]""");
        Assert.Equal("[1]", Text((await one.WaitAsync(ScriptedRouter.Bound)).Payload.ArgumentsJson));
        var two = session.CallAsync("com.example.echo", WampPayload.FromJson("[2]"));
        var twoCall = await router.ReceiveAsync(WampMessageType.Call);
        first.Cancel();
        var three = session.CallAsync("com.example.echo", WampPayload.FromJson("[3]"));
        var threeCall = await router.ReceiveAsync(WampMessageType.Call);
        Assert.Equal("[3]", Text(threeCall.Payload.ArgumentsJson)); // not a CANCEL
        router.Send($$"""[50, {{twoCall.Id1}}, {}, [2]]""");
        Assert.Equal("[2]", Text((await two.WaitAsync(ScriptedRouter.Bound)).Payload.ArgumentsJson));
        Assert.False(three.IsCompleted);
        router.Send($$"""[50, {{threeCall.Id1}}, {}, [3]]""");
        Assert.Equal("[3]", Text((await three.WaitAsync(ScriptedRouter.Bound)).Payload.ArgumentsJson));

        await AnsweredInAnyOrderAsync(router,
            (i, token) => session.CallAsync("com.example.echo", WampPayload.FromJson($"[{i}]"), cancellationToken: token),
            result => Text(result.Payload.ArgumentsJson), i => $"[{i}]");
    }

    /// <summary>
    /// Many calls at once, answered last first, every third with an ERROR, every fifth canceled by its caller: each
    /// task ends with what was meant for it (<paramref name="expected"/> of its index, read by <paramref name="read"/>),
    /// over rounds in which finished calls' objects are reused.
    /// </summary>
    private static async Task AnsweredInAnyOrderAsync<T, TValue>(ScriptedRouter router, Func<int, CancellationToken, Task<T>> call,
        Func<T, TValue> read, Func<int, TValue> expected)
    {
        for (int round = 0; round < 3; round++)
        {
            const int N = 60;
            var tokens = new CancellationTokenSource[N];
            var calls = new Task<T>[N];
            var ids = new long[N];
            for (int i = 0; i < N; i++)
            {
                tokens[i] = new CancellationTokenSource();
                calls[i] = call(i, tokens[i].Token);
                var m = await router.ReceiveAsync(WampMessageType.Call);
                Assert.Equal($"[{i}]", Text(m.Payload.ArgumentsJson));
                ids[i] = m.Id1;
            }
            for (int i = N - 1; i >= 0; i--)
            {
                if (i % 5 == 0)
                {
                    tokens[i].Cancel();
                    Assert.Equal(ids[i], (await router.ReceiveAsync(WampMessageType.Cancel)).Id1);
                }
                else if (i % 3 == 0) router.Send($$"""[8, 48, {{ids[i]}}, {}, "com.example.error.no", [{{i}}]]""");
                else router.Send($$"""[50, {{ids[i]}}, {}, [{{i}}]]""");
            }
            for (int i = 0; i < N; i++)
            {
                if (i % 5 == 0)
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => calls[i].WaitAsync(ScriptedRouter.Bound));
                else if (i % 3 == 0)
                    Assert.Equal(i, (await Assert.ThrowsAsync<WampException>(() => calls[i].WaitAsync(ScriptedRouter.Bound))).Args[0].GetInt32());
                else
                    Assert.Equal(expected(i), read(await calls[i].WaitAsync(ScriptedRouter.Bound)));
                tokens[i].Dispose();
            }
        }
    }

    [Fact]
    public async Task A_proxys_calls_answered_in_any_order_each_get_their_own_outcome_over_reused_call_objects()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        // What a generated proxy's method does: one logical call through the policies, its first result read as an int.
        var echo = new WampMethodDescriptor("Echo", "Echo", "com.example.echo");
        Task<int> Call(int i, CancellationToken token) =>
            WampContractRuntime.CallAsync(session, echo, WampPayload.FromJson($"[{i}]"), TestJsonContext.Default.Int32, null, token);

        // Refused before it starts (no time left): the outcome of a failed attempt, not a throw from the proxy's method.
        using (WampDeadline.Within(TimeSpan.Zero))
        {
            var refused = Call(-1, default);
            await Assert.ThrowsAsync<WampTimeoutException>(() => refused.WaitAsync(ScriptedRouter.Bound));
        }

        await AnsweredInAnyOrderAsync(router, Call, result => result, i => i);
    }

    [Fact]
    public async Task An_error_surfaces_as_WampException_with_uri_args_and_kwargs()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var call = session.CallAsync("com.example.conferences.get", WampPayload.FromJson("[999]"));
        var m = await router.ReceiveAsync(WampMessageType.Call);
        router.Send($$"""[8, 48, {{m.Id1}}, {}, "com.example.error.not_found", ["conference 999 not found"], {"id": 999}]""");
        var e = await Assert.ThrowsAsync<WampException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("com.example.error.not_found", e.Uri);
        Assert.Equal("conference 999 not found", e.Args[0].GetString());
        Assert.Equal(999, e.Kwargs.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Fox_wamps_callee_failure_is_surfaced_with_the_original_uri()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var call = session.CallAsync("com.example.conferences.get", WampPayload.FromJson("[999]"));
        var m = await router.ReceiveAsync(WampMessageType.Call);
        router.Send($$"""[8, 48, {{m.Id1}}, {}, "wamp.error.callee_failure", ["com.example.error.not_found"]]""");
        var e = await Assert.ThrowsAsync<WampException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("com.example.error.not_found", e.Uri);
        Assert.Contains("wamp.error.callee_failure", e.Message);
    }

    [Fact]
    public async Task Progressive_results_stream_in_order_then_the_final_result()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var items = new List<string>();
        var consume = Task.Run(async () =>
        {
            await foreach (var r in session.StreamAsync("com.example.import", WampPayload.FromJson("""["file.csv"]""")))
                items.Add((r.IsProgress ? "progress " : "final ") + Text(r.Payload.ArgumentsJson));
        });
        var call = await router.ReceiveAsync(WampMessageType.Call);
        Assert.True(call.Dict.GetBool("receive_progress"u8));
        router.Send($$"""[50, {{call.Id1}}, {"progress": true}, [1]]""");
        router.Send($$"""[50, {{call.Id1}}, {"progress": true}, [2], null]""");
        router.Send($$"""[50, {{call.Id1}}, {}, [3]]""");
        await consume.WaitAsync(ScriptedRouter.Bound);
        Assert.Equal(["progress [1]", "progress [2]", "final [3]"], items);
    }

    [Theory]
    [InlineData(null, "killnowait")]
    [InlineData(WampCancelMode.Skip, "skip")]
    public async Task A_callers_token_sends_cancel_with_an_explicit_mode_and_throws_with_that_token(WampCancelMode? mode, string wireMode)
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        using var cts = new CancellationTokenSource();
        var call = session.CallAsync("com.example.slow", default, new WampCallOptions { CancelMode = mode }, cts.Token);
        var m = await router.ReceiveAsync(WampMessageType.Call);
        cts.Cancel();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal(cts.Token, e.CancellationToken);
        var cancel = await router.ReceiveAsync(WampMessageType.Cancel);
        Assert.Equal(m.Id1, cancel.Id1);
        Assert.Equal(wireMode, cancel.Dict.GetString("mode"u8));
        // The router's late answer is dropped without harm.
        router.Send($$"""[8, 48, {{m.Id1}}, {}, "wamp.error.canceled"]""");
        var after = session.CallAsync("com.example.after");
        var next = await router.ReceiveAsync(WampMessageType.Call);
        router.Send($$"""[50, {{next.Id1}}, {}, [1]]""");
        Assert.Equal("[1]", Text((await after.WaitAsync(ScriptedRouter.Bound)).Payload.ArgumentsJson));
    }

    [Fact]
    public async Task Kill_mode_waits_for_the_callees_answer_then_throws_cancellation()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { CancelMode = WampCancelMode.Kill });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        using var cts = new CancellationTokenSource();
        var call = session.CallAsync("com.example.slow", default, null, cts.Token);
        var m = await router.ReceiveAsync(WampMessageType.Call);
        cts.Cancel();
        var cancel = await router.ReceiveAsync(WampMessageType.Cancel);
        Assert.Equal("kill", cancel.Dict.GetString("mode"u8));
        Assert.False(call.IsCompleted);
        router.Send($$"""[8, 48, {{m.Id1}}, {}, "wamp.error.canceled"]""");
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal(cts.Token, e.CancellationToken);
    }

    [Fact]
    public async Task Kill_mode_gives_up_after_its_grace_when_the_callee_never_answers()
    {
        var clock = new FakeTimeProvider();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { CancelMode = WampCancelMode.Kill, KillModeGrace = TimeSpan.FromSeconds(2), TimeProvider = clock });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        using var cts = new CancellationTokenSource();
        var call = session.CallAsync("com.example.slow", default, null, cts.Token);
        await router.ReceiveAsync(WampMessageType.Call);
        cts.Cancel();
        await router.ReceiveAsync(WampMessageType.Cancel);
        clock.Advance(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(ScriptedRouter.Bound));
    }

    [Fact]
    public async Task Without_router_call_canceling_a_cancel_completes_locally_and_sends_nothing()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(welcome: """[2, 1, {"roles": {"dealer": {}}}]""");
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        using var cts = new CancellationTokenSource();
        var call = session.CallAsync("com.example.slow", default, null, cts.Token);
        await router.ReceiveAsync(WampMessageType.Call);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(ScriptedRouter.Bound));
        var next = session.CallAsync("com.example.next");
        Assert.Equal("com.example.next", (await router.ReceiveAsync(WampMessageType.Call)).Uri);
        var disposing = session.DisposeAsync().AsTask();
        await router.ReceiveAsync(WampMessageType.Goodbye);
        router.Send("""[6, {}, "wamp.close.goodbye_and_out"]""");
        router.Crash();
        await disposing.WaitAsync(ScriptedRouter.Bound);
        await Assert.ThrowsAsync<WampConnectionException>(() => next);
    }

    [Fact]
    public async Task Losing_the_connection_fails_every_pending_call_at_once()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var calls = Enumerable.Range(0, 5).Select(i => session.CallAsync("com.example.slow")).ToArray();
        var stream = session.StreamAsync("com.example.import").GetAsyncEnumerator();
        var streamNext = stream.MoveNextAsync().AsTask();
        for (int i = 0; i < 6; i++) await router.ReceiveAsync(WampMessageType.Call);
        router.Crash();
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<WampConnectionException>(() => call.WaitAsync(ScriptedRouter.Bound));
            Assert.Equal(WampConnectionException.TransportLost, e.Reason);
        }
        await Assert.ThrowsAsync<WampConnectionException>(() => streamNext.WaitAsync(ScriptedRouter.Bound));
        await session.Completion.WaitAsync(ScriptedRouter.Bound);
        Assert.False(session.IsConnected);
        await Assert.ThrowsAsync<WampConnectionException>(() => session.CallAsync("com.example.after"));
    }

    [Fact]
    public async Task Dispose_says_goodbye_and_accepts_any_reply_reason()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var _ = router;
        var dispose = session.DisposeAsync().AsTask();
        var goodbye = await router.ReceiveAsync(WampMessageType.Goodbye);
        Assert.Equal("wamp.close.close_realm", goodbye.Uri);
        router.Send("""[6, {}, "wamp.error.goodbye_and_out"]""");
        Assert.True(await router.ClientClosedAsync());
        router.Crash(); // the server closes its side in turn, as a WebSocket server does
        await dispose.WaitAsync(ScriptedRouter.Bound);
        Assert.Equal("wamp.close.close_realm", session.CloseReason);
    }

    [Fact]
    public async Task A_goodbye_from_the_router_is_answered_and_fails_pending_calls_with_its_reason()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var call = session.CallAsync("com.example.slow");
        await router.ReceiveAsync(WampMessageType.Call);
        router.Send("""[6, {"message": "bye"}, "wamp.close.system_shutdown"]""");
        var reply = await router.ReceiveAsync(WampMessageType.Goodbye);
        Assert.Equal("wamp.close.goodbye_and_out", reply.Uri);
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wamp.close.system_shutdown", e.Reason);
    }

    [Fact]
    public async Task A_malformed_message_from_the_router_aborts_with_protocol_violation()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var call = session.CallAsync("com.example.slow");
        await router.ReceiveAsync(WampMessageType.Call);
        router.Send("""[50, "not an id", {}]""");
        var abort = await router.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal("wamp.error.protocol_violation", abort.Uri);
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wamp.error.protocol_violation", e.Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("com..x")]
    [InlineData("com.bad uri")]
    public async Task An_error_with_an_invalid_uri_aborts_with_protocol_violation(string uri)
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var call = session.CallAsync("com.example.slow");
        var request = await router.ReceiveAsync(WampMessageType.Call);
        router.Send($$"""[8, 48, {{request.Id1}}, {}, "{{uri}}"]""");
        var abort = await router.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal("wamp.error.protocol_violation", abort.Uri);
        // Named as what it is, not as a failure of the client's own (no WampException can carry that URI).
        Assert.Equal($"ERROR with invalid URI '{uri}'", abort.Dict.GetString("message"u8));
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wamp.error.protocol_violation", e.Reason);
    }

    [Fact]
    public async Task A_reconnection_attempt_past_its_bound_fails_as_a_connection_error_not_a_bare_cancellation()
    {
        // The fake clock holds the handshake's own timeout back, so the attempt's bound (ConnectTimeout) ends it.
        var clock = new FakeTimeProvider();
        var reported = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var routers = new System.Collections.Concurrent.ConcurrentQueue<ScriptedRouter>();
        Task<Transport.IWampTransport> Connect(CancellationToken ct)
        {
            var router = ScriptedRouter.Create(); // from the second connection on, it never answers HELLO
            routers.Enqueue(router);
            return Task.FromResult<Transport.IWampTransport>(router.Client);
        }
        var join = WampSession.JoinAsync(Connect, "realm1", new WampSessionOptions
        {
            TimeProvider = clock,
            ConnectTimeout = TimeSpan.FromMilliseconds(100),
            Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
            OnHandlerError = e => reported.TrySetResult(e),
        });
        Assert.True(routers.TryPeek(out var first));
        await first.ReceiveAsync(WampMessageType.Hello);
        first.Send(ScriptedRouter.AllFeaturesWelcome);
        await using var session = await join.WaitAsync(ScriptedRouter.Bound);
        first.Crash();

        var error = await reported.Task.WaitAsync(ScriptedRouter.Bound);
        var e = Assert.IsType<WampConnectionException>(error);
        Assert.Contains("within 100 ms", e.Message);
        foreach (var router in routers) await router.DisposeAsync();
    }

    [Fact]
    public async Task An_oversized_result_fails_only_its_call()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { MaxMessageSize = 1024 }, maxMessageSize: 1024);
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var big = session.CallAsync("com.example.big");
        var small = session.CallAsync("com.example.small");
        var m1 = await router.ReceiveAsync(WampMessageType.Call);
        var m2 = await router.ReceiveAsync(WampMessageType.Call);
        router.Send($$"""[50, {{m1.Id1}}, {}, ["{{new string('x', 5000)}}"]]""");
        router.Send($$"""[50, {{m2.Id1}}, {}, ["ok"]]""");
        var e = await Assert.ThrowsAsync<WampException>(() => big.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wamp.error.payload_size_exceeded", e.Uri);
        Assert.Equal("""["ok"]""", Text((await small.WaitAsync(ScriptedRouter.Bound)).Payload.ArgumentsJson));
        Assert.True(session.IsConnected);
    }

    [Fact]
    public async Task Progress_sent_to_a_plain_call_does_not_extend_its_limit()
    {
        var clock = new FakeTimeProvider();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { TimeProvider = clock });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var call = session.CallAsync("com.example.drip", default, new WampCallOptions { Timeout = TimeSpan.FromSeconds(2) });
        var sent = await router.ReceiveAsync(WampMessageType.Call);
        for (int i = 0; i < 4 && !call.IsCompleted; i++)
        {
            // A router that sends progress nobody asked for, every second; the marker call's answer, sent after
            // it, shows the session has read it before the clock moves on.
            var marker = session.CallAsync("com.example.marker");
            var markerCall = await router.ReceiveAsync(WampMessageType.Call);
            router.Send($$"""[50, {{sent.Id1}}, {"progress": true}, [{{i}}]]""");
            router.Send($"[50, {markerCall.Id1}, {{}}]");
            await marker.WaitAsync(ScriptedRouter.Bound);
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        var e = await Assert.ThrowsAsync<WampTimeoutException>(() => call.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal(TimeSpan.FromSeconds(2), e.Limit);
        Assert.True(e.Elapsed <= TimeSpan.FromSeconds(2), $"timed out after {e.Elapsed}");
    }

    [Fact]
    public async Task Disposing_a_registration_or_subscription_the_router_never_confirms_does_not_throw()
    {
        var clock = new FakeTimeProvider();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { TimeProvider = clock, OperationTimeout = TimeSpan.FromSeconds(5) });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var registering = session.RegisterAsync("com.example.proc", static (inv, ct) => ValueTask.FromResult(WampPayload.Empty));
        var register = await router.ReceiveAsync(WampMessageType.Register);
        router.Send($"[65, {register.Id1}, 100]");
        var registration = await registering.WaitAsync(ScriptedRouter.Bound);
        var subscribing = session.SubscribeAsync("com.example.topic", static (e, ct) => ValueTask.CompletedTask);
        var subscribe = await router.ReceiveAsync(WampMessageType.Subscribe);
        router.Send($"[33, {subscribe.Id1}, 200]");
        var subscription = await subscribing.WaitAsync(ScriptedRouter.Bound);

        // UNREGISTER: no answer at all, past the operation timeout.
        var unregistering = registration.DisposeAsync().AsTask();
        await router.ReceiveAsync(WampMessageType.Unregister);
        clock.Advance(TimeSpan.FromSeconds(5));
        await unregistering.WaitAsync(ScriptedRouter.Bound);

        // UNSUBSCRIBE: refused.
        var unsubscribing = subscription.DisposeAsync().AsTask();
        var unsubscribe = await router.ReceiveAsync(WampMessageType.Unsubscribe);
        router.Send($$"""[8, 34, {{unsubscribe.Id1}}, {}, "wamp.error.no_such_subscription"]""");
        await unsubscribing.WaitAsync(ScriptedRouter.Bound);

        // The invocation of the released registration is refused locally.
        router.Send("""[68, 9, 100, {}, []]""");
        var error = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((9L, "wamp.error.no_such_registration"), (error.Id2, error.Uri));
    }

    [Fact]
    public async Task A_stream_whose_consumer_falls_behind_the_buffer_bound_is_canceled_and_fails()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { MaxBufferedBytes = 4096 });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var stream = session.StreamAsync("com.example.firehose").GetAsyncEnumerator();
        var first = stream.MoveNextAsync().AsTask();
        var call = await router.ReceiveAsync(WampMessageType.Call);
        for (int i = 0; i < 100; i++)
            router.Send($$"""[50, {{call.Id1}}, {"progress": true}, ["{{new string('p', 100)}}", {{i}}]]""");
        var cancel = await router.ReceiveAsync(WampMessageType.Cancel);
        Assert.Equal(call.Id1, cancel.Id1);
        Assert.True(await first.WaitAsync(ScriptedRouter.Bound)); // what was buffered is still read
        var e = await Assert.ThrowsAsync<WampException>(async () => { while (await stream.MoveNextAsync()) { } });
        Assert.Equal(WampUris.PayloadSizeExceeded, e.Uri);
        await stream.DisposeAsync();
        Assert.True(session.IsConnected);
    }
}
