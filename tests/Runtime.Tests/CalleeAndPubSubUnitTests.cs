using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;

namespace WampContracts.Tests;

public class CalleeAndPubSubUnitTests
{
    private static string Text(ReadOnlyMemory<byte> json) => Encoding.UTF8.GetString(json.Span);

    private static async Task<WampRegistration> RegisterAsync(ScriptedRouter router, WampSession session, string procedure, WampProcedureHandler handler, long registrationId = 100)
    {
        var registering = session.RegisterAsync(procedure, handler);
        var register = await router.ReceiveAsync(WampMessageType.Register);
        Assert.Equal(procedure, register.Uri);
        router.Send($"[65, {register.Id1}, {registrationId}]");
        return await registering.WaitAsync(ScriptedRouter.Bound);
    }

    [Fact]
    public async Task An_invocation_runs_the_handler_and_yields_its_result()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        WampInvocation? seen = null;
        await RegisterAsync(router, session, "com.example.add", (inv, ct) =>
        {
            seen = inv;
            int sum = inv.Payload.GetArgument(0, TestJsonContext.Default.Int32) + inv.Payload.GetArgument(1, TestJsonContext.Default.Int32);
            return ValueTask.FromResult(new WampPayloadBuilder().AddArgument(sum, TestJsonContext.Default.Int32).Build());
        });
        router.Send("""[68, 1, 100, {"caller": 55, "x_deadline": 1700000000000}, [2, 3]]""");
        var yield = await router.ReceiveAsync(WampMessageType.Yield);
        Assert.Equal(1, yield.Id1);
        Assert.Equal("[5]", Text(yield.Payload.ArgumentsJson));
        Assert.Equal(55, seen!.Caller);
        Assert.Equal(1700000000000, seen.Details.GetInt64("x_deadline"u8));
        Assert.Equal("com.example.add", seen.Procedure);
    }

    [Fact]
    public async Task Invocation_details_are_read_by_their_first_occurrence_and_a_value_of_the_wrong_type_reads_as_absent()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        WampInvocation? seen = null;
        await RegisterAsync(router, session, "com.example", (inv, ct) =>
        {
            seen = inv;
            return ValueTask.FromResult(WampPayload.Empty);
        });
        router.Send("""[68, 1, 100, {"caller": "x", "caller": 5, "x": {"caller": 6}, "receive_progress": true, "timeout": -1,""" +
            """ "procedure": "com.example.p.q", "caller_authid": "alice", "x_idempotency_key": "k1", "procedure": "com.example.other"}, [1]]""");
        await router.ReceiveAsync(WampMessageType.Yield);

        Assert.Null(seen!.Caller);
        Assert.True(seen.ReceiveProgress);
        Assert.Null(seen.Timeout);
        Assert.Equal("com.example.p.q", seen.Procedure);
        Assert.Equal("alice", seen.CallerAuthId);
        Assert.Equal("k1", seen.IdempotencyKey);
    }

    [Fact]
    public async Task Inline_handlers_start_in_the_order_their_invocations_arrive_and_one_that_awaits_frees_the_reader()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var started = new List<long>();
        var first = new TaskCompletionSource<WampPayload>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registering = session.RegisterAsync("com.example.fast", (inv, ct) =>
        {
            lock (started) started.Add(inv.RequestId);
            return inv.RequestId == 1 ? new ValueTask<WampPayload>(first.Task) : ValueTask.FromResult(inv.Payload);
        }, new WampRegisterOptions { RunsInline = true });
        var register = await router.ReceiveAsync(WampMessageType.Register);
        router.Send($"[65, {register.Id1}, 100]");
        await registering.WaitAsync(ScriptedRouter.Bound);

        router.Send("""[68, 1, 100, {}, [1]]""");
        router.Send("""[68, 2, 100, {}, [2]]""");
        router.Send("""[68, 3, 100, {}, [3]]""");

        // The first handler awaits: the reader goes on, and the later invocations are answered first.
        Assert.Equal(2, (await router.ReceiveAsync(WampMessageType.Yield)).Id1);
        Assert.Equal(3, (await router.ReceiveAsync(WampMessageType.Yield)).Id1);
        first.SetResult(WampPayload.FromJson("[1]"));
        var last = await router.ReceiveAsync(WampMessageType.Yield);
        Assert.Equal(1, last.Id1);
        Assert.Equal("[1]", Text(last.Payload.ArgumentsJson));
        lock (started) Assert.Equal([1L, 2L, 3L], started);
    }

    [Fact]
    public async Task An_inline_handler_does_not_inherit_the_ambient_deadline_of_the_code_that_joined_the_session()
    {
        ScriptedRouter router;
        WampSession session;
        using (WampDeadline.Within(TimeSpan.FromHours(1)))
            (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        TimeSpan? seen = TimeSpan.Zero;
        var registering = session.RegisterAsync("com.example.fast", (inv, ct) =>
        {
            seen = WampDeadline.Remaining;
            return ValueTask.FromResult(inv.Payload);
        }, new WampRegisterOptions { RunsInline = true });
        var register = await router.ReceiveAsync(WampMessageType.Register);
        router.Send($"[65, {register.Id1}, 100]");
        await registering.WaitAsync(ScriptedRouter.Bound);

        router.Send("""[68, 1, 100, {}, [1]]""");
        await router.ReceiveAsync(WampMessageType.Yield);

        Assert.Null(seen); // the invocation carried no timeout, and nothing leaked from the join
    }

    [Fact]
    public async Task A_wamp_exception_from_the_handler_answers_with_its_uri_and_payload()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        await RegisterAsync(router, session, "com.example.get", (inv, ct) =>
            throw new WampException("com.example.error.not_found", WampPayload.FromJson("""["conference 9 not found"]""", """{"id": 9}""")));
        router.Send("""[68, 7, 100, {}, [9]]""");
        var error = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((68L, 7L), (error.Id1, error.Id2));
        Assert.Equal("com.example.error.not_found", error.Uri);
        Assert.Equal("""["conference 9 not found"]""", Text(error.Payload.ArgumentsJson));
        Assert.Equal("""{"id": 9}""", Text(error.Payload.KeywordArgumentsJson));
    }

    [Fact]
    public async Task An_unexpected_exception_is_sent_as_runtime_error_without_internal_details()
    {
        var reported = new List<Exception>();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { OnHandlerError = reported.Add });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        await RegisterAsync(router, session, "com.example.fail", (inv, ct) => throw new InvalidOperationException("connection string Password=secret"));
        router.Send("""[68, 1, 100, {}]""");
        var error = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("wamp.error.runtime_error", error.Uri);
        Assert.DoesNotContain("secret", error.ToString());
        Assert.IsType<InvalidOperationException>(Assert.Single(reported));
    }

    [Fact]
    public async Task Exception_details_are_sent_only_when_the_session_opts_in()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { IncludeExceptionDetails = true });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        await RegisterAsync(router, session, "com.example.fail", (inv, ct) => throw new InvalidOperationException("boom"));
        router.Send("""[68, 1, 100, {}]""");
        var error = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("""["boom"]""", Text(error.Payload.ArgumentsJson));
        Assert.Contains("System.InvalidOperationException", Text(error.Payload.KeywordArgumentsJson));
    }

    [Fact]
    public async Task Interrupt_cancels_the_handlers_token_and_answers_canceled()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var slow = new Interruptible();
        await RegisterAsync(router, session, "com.example.slow", slow.Handler);
        await slow.InterruptAsync(router, id: 3, registrationId: 100);
    }

    /// <summary>A handler that runs until its token fires; <see cref="InterruptAsync"/> drives one invocation of it.</summary>
    private sealed class Interruptible
    {
        private TaskCompletionSource _started = new(), _canceled = new();

        public WampProcedureHandler Handler => async (inv, ct) =>
        {
            var canceled = _canceled;
            _started.SetResult();
            using var reg = ct.Register(() => canceled.SetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        };

        /// <summary>INVOCATION <paramref name="id"/>, then INTERRUPT once the handler runs: its token fires, and the router is answered canceled.</summary>
        public async Task InterruptAsync(ScriptedRouter router, long id, long registrationId)
        {
            (_started, _canceled) = (new(), new());
            router.Send($"[68, {id}, {registrationId}, {{}}]");
            await _started.Task.WaitAsync(ScriptedRouter.Bound);
            router.Send($$"""[69, {{id}}, {"mode": "kill"}]""");
            await _canceled.Task.WaitAsync(ScriptedRouter.Bound);
            var error = await router.ReceiveAsync(WampMessageType.Error);
            Assert.Equal((68L, id, "wamp.error.canceled"), (error.Id1, error.Id2, error.Uri));
        }
    }

    [Fact]
    public async Task A_finished_invocations_token_never_fires_and_carries_none_of_its_callbacks_into_a_later_invocation()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        WampInvocation? finished = null;
        CancellationToken finishedToken = default;
        int staleCallbacks = 0;
        await RegisterAsync(router, session, "com.example.quick", (inv, ct) =>
        {
            (finished, finishedToken) = (inv, ct);
            ct.Register(() => Interlocked.Increment(ref staleCallbacks));
            return ValueTask.FromResult(WampPayload.Empty);
        });
        router.Send("""[68, 1, 100, {}]""");
        Assert.Equal(1, (await router.ReceiveAsync(WampMessageType.Yield)).Id1);
        // An interrupt that lost the race with the end (the reader found the invocation just before it ended) fires nothing:
        // the token's source may already serve another invocation.
        finished!.Interrupt(byRouter: true);
        Assert.False(finishedToken.IsCancellationRequested);
        router.Send("""[69, 1, {"mode": "kill"}]"""); // for an invocation that is over: ignored
        var slow = new Interruptible();
        await RegisterAsync(router, session, "com.example.slow", slow.Handler, registrationId: 101);
        // Later invocations, some of which may get the first one's token source again, are interrupted in turn.
        for (int id = 2; id <= 4; id++) await slow.InterruptAsync(router, id, registrationId: 101);
        // (The first token itself may read as canceled by now: its source may have served one of them, as documented.)
        Assert.Equal(0, staleCallbacks);
    }

    [Fact]
    public async Task A_forwarded_timeout_cancels_the_handler_and_answers_timeout()
    {
        var clock = new FakeTimeProvider();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { TimeProvider = clock });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var started = new TaskCompletionSource<TimeSpan?>();
        await RegisterAsync(router, session, "com.example.slow", async (inv, ct) =>
        {
            started.SetResult(inv.Timeout);
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        router.Send("""[68, 4, 100, {"timeout": 200}]""");
        Assert.Equal(TimeSpan.FromMilliseconds(200), await started.Task.WaitAsync(ScriptedRouter.Bound));
        clock.Advance(TimeSpan.FromMilliseconds(200));
        var error = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("wamp.error.timeout", error.Uri);
    }

    [Fact]
    public async Task Progress_is_sent_only_when_the_caller_asked_for_it()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var sent = new List<bool>();
        await RegisterAsync(router, session, "com.example.import", async (inv, ct) =>
        {
            sent.Add(await inv.SendProgressAsync(WampPayload.FromJson("[1]"), ct));
            sent.Add(await inv.SendProgressAsync(WampPayload.FromJson("[2]"), ct));
            return WampPayload.FromJson("""["done"]""");
        });
        router.Send("""[68, 1, 100, {"receive_progress": true}]""");
        var p1 = await router.ReceiveAsync(WampMessageType.Yield);
        var p2 = await router.ReceiveAsync(WampMessageType.Yield);
        var final = await router.ReceiveAsync(WampMessageType.Yield);
        Assert.True(p1.Dict.GetBool("progress"u8) && p2.Dict.GetBool("progress"u8));
        Assert.Equal(("[1]", "[2]"), (Text(p1.Payload.ArgumentsJson), Text(p2.Payload.ArgumentsJson)));
        Assert.False(final.Dict.GetBool("progress"u8));

        router.Send("""[68, 2, 100, {}]""");
        var only = await router.ReceiveAsync(WampMessageType.Yield);
        Assert.Equal("""["done"]""", Text(only.Payload.ArgumentsJson));
        Assert.Equal([true, true, false, false], sent);
    }

    [Fact]
    public async Task An_invocation_for_an_unknown_registration_is_answered_with_an_error()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        router.Send("""[68, 9, 12345, {}]""");
        var error = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("wamp.error.no_such_registration", error.Uri);
    }

    [Fact]
    public async Task Register_errors_surface_and_dispose_unregisters()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var refused = session.RegisterAsync("com.example.taken", (i, c) => default);
        var m = await router.ReceiveAsync(WampMessageType.Register);
        router.Send($$"""[8, 64, {{m.Id1}}, {}, "wamp.error.procedure_already_exists"]""");
        var e = await Assert.ThrowsAsync<WampException>(() => refused.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wamp.error.procedure_already_exists", e.Uri);

        var registration = await RegisterAsync(router, session, "com.example.mine", (i, c) => default, registrationId: 77);
        var disposing = registration.DisposeAsync().AsTask();
        var unregister = await router.ReceiveAsync(WampMessageType.Unregister);
        Assert.Equal(77, unregister.Id2);
        router.Send($"[67, {unregister.Id1}]");
        await disposing.WaitAsync(ScriptedRouter.Bound);
    }

    [Fact]
    public async Task A_control_request_the_router_never_answers_times_out()
    {
        var clock = new FakeTimeProvider();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { OperationTimeout = TimeSpan.FromSeconds(5), TimeProvider = clock });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var registering = session.RegisterAsync("com.example.x", (i, c) => default);
        await router.ReceiveAsync(WampMessageType.Register);
        clock.Advance(TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<TimeoutException>(() => registering.WaitAsync(ScriptedRouter.Bound));
        Assert.Contains("REGISTER within 5000 ms", e.Message);
    }

    [Fact]
    public async Task Events_reach_every_local_handler_in_order_and_the_last_unsubscribe_goes_to_the_router()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var a = Channel.CreateUnbounded<string>();
        var b = Channel.CreateUnbounded<string>();
        var subscribing = session.SubscribeAsync("com.example.ticks", (e, ct) => { a.Writer.TryWrite(Text(e.Payload.ArgumentsJson) + " from " + e.Publisher); return default; });
        var s1 = await router.ReceiveAsync(WampMessageType.Subscribe);
        router.Send($"[33, {s1.Id1}, 500]");
        var first = await subscribing.WaitAsync(ScriptedRouter.Bound);
        var subscribing2 = session.SubscribeAsync("com.example.ticks", (e, ct) => { b.Writer.TryWrite(Text(e.Payload.ArgumentsJson)); return default; });
        var s2 = await router.ReceiveAsync(WampMessageType.Subscribe);
        router.Send($"[33, {s2.Id1}, 500]");
        var second = await subscribing2.WaitAsync(ScriptedRouter.Bound);
        Assert.Equal(first.Id, second.Id);

        router.Send("""[36, 500, 1, {"publisher": 9}, [1], null]""");
        router.Send("""[36, 500, 2, {}, [2]]""");
        Assert.Equal("[1] from 9", await a.Reader.ReadAsync().AsTask().WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("[2] from ", await a.Reader.ReadAsync().AsTask().WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("[1]", await b.Reader.ReadAsync().AsTask().WaitAsync(ScriptedRouter.Bound));

        await first.DisposeAsync(); // another local handler remains: nothing is sent
        var disposing = second.DisposeAsync().AsTask();
        var unsubscribe = await router.ReceiveAsync(WampMessageType.Unsubscribe);
        Assert.Equal(500, unsubscribe.Id2);
        router.Send($"[35, {unsubscribe.Id1}]");
        await disposing.WaitAsync(ScriptedRouter.Bound);
    }

    [Fact]
    public async Task A_failing_event_handler_does_not_stop_later_events()
    {
        var reported = new List<Exception>();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { OnHandlerError = reported.Add });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var got = Channel.CreateUnbounded<string>();
        var subscribing = session.SubscribeAsync("com.example.t", (e, ct) =>
        {
            string text = Text(e.Payload.ArgumentsJson);
            if (text == "[1]") throw new InvalidOperationException("bad event");
            got.Writer.TryWrite(text);
            return default;
        });
        var s = await router.ReceiveAsync(WampMessageType.Subscribe);
        router.Send($"[33, {s.Id1}, 5]");
        await subscribing.WaitAsync(ScriptedRouter.Bound);
        router.Send("""[36, 5, 1, {}, [1]]""");
        router.Send("""[36, 5, 2, {}, [2]]""");
        Assert.Equal("[2]", await got.Reader.ReadAsync().AsTask().WaitAsync(ScriptedRouter.Bound));
        Assert.Single(reported);
    }

    [Fact]
    public async Task An_acknowledged_publish_returns_the_publication_id_and_a_plain_one_returns_at_once()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        Assert.Equal(0, await session.PublishAsync("com.example.t", WampPayload.FromJson("[1]")));
        var plain = await router.ReceiveAsync(WampMessageType.Publish);
        Assert.True(plain.Dict.IsEmpty);

        var acked = session.PublishAsync("com.example.t", default, new WampPublishOptions { Acknowledge = true, ExcludeMe = false, Exclude = [4, 5] }).AsTask();
        var publish = await router.ReceiveAsync(WampMessageType.Publish);
        Assert.Equal("""{"acknowledge":true,"exclude_me":false,"exclude":[4,5]}""", publish.Dict.ToString());
        router.Send($"[17, {publish.Id1}, 8888]");
        Assert.Equal(8888, await acked.WaitAsync(ScriptedRouter.Bound));
    }

    [Fact]
    public async Task Events_past_the_buffer_bound_are_dropped_while_a_handler_is_stuck_and_flow_again_after()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { MaxBufferedBytes = 2000 });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = Channel.CreateUnbounded<int>();
        var subscribing = session.SubscribeAsync("com.example.ticks", async (e, ct) =>
        {
            await gate.Task;
            seen.Writer.TryWrite(e.Payload.GetArgument(0, TestJsonContext.Default.Int32));
        });
        var subscribe = await router.ReceiveAsync(WampMessageType.Subscribe);
        router.Send($"[33, {subscribe.Id1}, 300]");
        await subscribing.WaitAsync(ScriptedRouter.Bound);

        // 100 events of about 200 bytes while the handler is stuck: about ten fit.
        for (int i = 0; i < 100; i++) router.Send($$"""[36, 300, {{i + 1}}, {}, [{{i}}, "{{new string('e', 180)}}"]]""");
        // A marker call answered after them shows the session has read them all.
        var marker = session.CallAsync("com.example.marker");
        var markerCall = await router.ReceiveAsync(WampMessageType.Call);
        router.Send($"[50, {markerCall.Id1}, {{}}]");
        await marker.WaitAsync(ScriptedRouter.Bound);
        gate.SetResult();

        var delivered = new List<int>();
        router.Send($$"""[36, 300, 1000, {}, [1000]]""");
        while (true)
        {
            int n = await seen.Reader.ReadAsync().AsTask().WaitAsync(ScriptedRouter.Bound);
            delivered.Add(n);
            if (n == 1000) break;
        }
        Assert.InRange(delivered.Count, 3, 15);
        Assert.Equal(delivered.Order(), delivered); // in order, with a gap
        Assert.True(session.IsConnected);
    }

    [Fact]
    public async Task A_handler_whose_token_callback_throws_is_still_timed_out_and_the_session_serves_on()
    {
        var clock = new FakeTimeProvider();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { TimeProvider = clock });
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        var started = new SemaphoreSlim(0);
        await RegisterAsync(router, session, "com.example.fragile", async (inv, ct) =>
        {
            using var callback = ct.Register(static () => throw new InvalidOperationException("a faulty cancellation callback"));
            started.Release();
            await Task.Delay(Timeout.InfiniteTimeSpan, clock, ct);
            return WampPayload.Empty;
        });

        // The forwarded limit passes on the timer's thread: the callback's exception must not escape there.
        router.Send("""[68, 1, 100, {"timeout": 1000}, []]""");
        Assert.True(await started.WaitAsync(ScriptedRouter.Bound)); // the handler has registered its callback
        clock.Advance(TimeSpan.FromSeconds(1));
        var timedOut = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((1L, "wamp.error.timeout"), (timedOut.Id2, timedOut.Uri));

        // An INTERRUPT from the reader loop: the same.
        router.Send("""[68, 2, 100, {}, []]""");
        Assert.True(await started.WaitAsync(ScriptedRouter.Bound));
        router.Send("""[69, 2, {"mode": "kill"}]""");
        var canceled = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((2L, "wamp.error.canceled"), (canceled.Id2, canceled.Uri));
        Assert.True(session.IsConnected);
    }
}
