using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

public class DealerTests
{
    private static async Task<long> RegisterAsync(RawClient callee, string uri, string options = "{}", long requestId = 1)
    {
        callee.Send($$"""[64, {{requestId}}, {{options}}, "{{uri}}"]""");
        var m = await callee.ReceiveAsync(WampMessageType.Registered);
        Assert.Equal(requestId, m.Id1);
        return m.Id2;
    }

    [Fact]
    public async Task A_call_reaches_the_callee_with_its_payload_byte_for_byte_and_the_result_comes_back()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        long registration = await RegisterAsync(callee, "com.example.conferences.get");

        caller.Send("""[48, 7, {}, "com.example.conferences.get", [123, 1.50, "\u00e9"],  {"k" : [true]}]""");
        Assert.Equal($$"""[68,1,{{registration}},{},[123, 1.50, "\u00e9"],{"k" : [true]}]""", await callee.ReceiveTextAsync());
        callee.Send("""[70, 1, {}, [{"name": "deSymfony", "where": "Madrid"}]]""");
        Assert.Equal("""[50,7,{},[{"name": "deSymfony", "where": "Madrid"}]]""", await caller.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_callee_error_reaches_the_caller_with_its_uri_args_and_kwargs_intact()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.conferences.get");
        caller.Send("""[48, 3, {}, "com.example.conferences.get", [999]]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        callee.Send($$"""[8, 68, {{inv.Id1}}, {}, "com.example.error.not_found", ["conference 999 not found"], {"id": 999}]""");
        Assert.Equal("""[8,48,3,{},"com.example.error.not_found",["conference 999 not found"],{"id": 999}]""", await caller.ReceiveTextAsync());
    }

    [Fact]
    public async Task Registration_errors_are_clear()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var a = await RawClient.JoinAsync(router);
        await using var b = await RawClient.JoinAsync(router);
        await RegisterAsync(a, "com.example.one");

        b.Send("""[64, 1, {}, "com.example.one"]""");
        Assert.Equal("wamp.error.procedure_already_exists", (await b.ReceiveAsync(WampMessageType.Error)).Uri);
        b.Send("""[64, 2, {}, "wamp.session.count"]""");
        Assert.Equal("wamp.error.invalid_uri", (await b.ReceiveAsync(WampMessageType.Error)).Uri);
        b.Send("""[64, 3, {}, "com..bad"]""");
        Assert.Equal("wamp.error.invalid_uri", (await b.ReceiveAsync(WampMessageType.Error)).Uri);
        b.Send("""[64, 4, {"invoke": "sometimes"}, "com.example.two"]""");
        var e = await b.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("wamp.error.invalid_argument", e.Uri);
        Assert.Contains("sometimes", e.Payload.ToString());
        b.Send("""[48, 5, {}, "com.example.none"]""");
        Assert.Equal("wamp.error.no_such_procedure", (await b.ReceiveAsync(WampMessageType.Error)).Uri);
        b.Send("""[66, 6, 424242]""");
        Assert.Equal("wamp.error.no_such_registration", (await b.ReceiveAsync(WampMessageType.Error)).Uri);
    }

    [Fact]
    public async Task Unregister_removes_the_procedure()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        long id = await RegisterAsync(callee, "com.example.one");
        callee.Send($"[66, 2, {id}]");
        Assert.Equal("[67,2]", await callee.ReceiveTextAsync());
        callee.Send("""[48, 3, {}, "com.example.one"]""");
        Assert.Equal("wamp.error.no_such_procedure", (await callee.ReceiveAsync(WampMessageType.Error)).Uri);
    }

    [Fact]
    public async Task The_dealer_enforces_call_timeout_and_interrupts_a_callee_that_supports_canceling()
    {
        var clock = new FakeTimeProvider();
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { TimeProvider = clock });
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.slow");

        caller.Send("""[48, 1, {"timeout": 200}, "com.example.slow", [800]]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        Assert.Equal(200, inv.Dict.GetInt64("timeout"u8)); // forwarded: the callee announced call_timeout
        clock.Advance(TimeSpan.FromMilliseconds(199));
        await caller.AssertNothingPendingAsync();
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var error = await caller.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((48L, 1L, "wamp.error.timeout"), (error.Id1, error.Id2, error.Uri));
        var interrupt = await callee.ReceiveAsync(WampMessageType.Interrupt);
        Assert.Equal(inv.Id1, interrupt.Id1);
        Assert.Equal("killnowait", interrupt.Dict.GetString("mode"u8));

        // The callee's late answer is dropped silently.
        callee.Send($"[70, {inv.Id1}, {{}}, [\"late\"]]");
        await caller.AssertNothingPendingAsync();
        await callee.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_callee_without_call_canceling_gets_no_interrupt_and_no_forwarded_timeout()
    {
        var clock = new FakeTimeProvider();
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { TimeProvider = clock });
        await using var callee = await RawClient.JoinAsync(router, RawClient.PlainRoles);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.slow");
        caller.Send("""[48, 1, {"timeout": 200}, "com.example.slow"]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        Assert.True(inv.Dict.IsEmpty);
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal("wamp.error.timeout", (await caller.ReceiveAsync(WampMessageType.Error)).Uri);
        await callee.AssertNothingPendingAsync();
    }

    [Theory]
    [InlineData("skip")]
    [InlineData("killnowait")]
    public async Task Cancel_in_skip_and_killnowait_answers_the_caller_at_once(string mode)
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.slow");
        caller.Send("""[48, 1, {}, "com.example.slow"]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        caller.Send($$"""[49, 1, {"mode": "{{mode}}"}]""");
        var error = await caller.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("wamp.error.canceled", error.Uri);
        if (mode == "killnowait")
            Assert.Equal($$"""[69,{{inv.Id1}},{"mode":"killnowait"}]""", await callee.ReceiveTextAsync());
        callee.Send($"[70, {inv.Id1}, {{}}]");
        await caller.AssertNothingPendingAsync();
        await callee.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Cancel_in_kill_mode_interrupts_and_passes_on_the_callees_answer()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.slow");
        caller.Send("""[48, 1, {}, "com.example.slow"]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        caller.Send("""[49, 1, {"mode": "kill"}]""");
        Assert.Equal($$"""[69,{{inv.Id1}},{"mode":"kill"}]""", await callee.ReceiveTextAsync());
        await caller.AssertNothingPendingAsync(); // kill waits for the callee
        callee.Send($$"""[8, 68, {{inv.Id1}}, {}, "wamp.error.canceled", ["stopped"]]""");
        Assert.Equal("""[8,48,1,{},"wamp.error.canceled",["stopped"]]""", await caller.ReceiveTextAsync());
    }

    [Fact]
    public async Task Cancel_without_a_mode_acts_as_killnowait_and_to_a_callee_without_canceling_as_skip()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var plainCallee = await RawClient.JoinAsync(router, RawClient.PlainRoles);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.a");
        await RegisterAsync(plainCallee, "com.example.b");

        caller.Send("""[48, 1, {}, "com.example.a"]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        caller.Send("""[49, 1, {}]""");
        Assert.Equal("wamp.error.canceled", (await caller.ReceiveAsync(WampMessageType.Error)).Uri);
        Assert.Equal("killnowait", (await callee.ReceiveAsync(WampMessageType.Interrupt)).Dict.GetString("mode"u8));

        caller.Send("""[48, 2, {}, "com.example.b"]""");
        await plainCallee.ReceiveAsync(WampMessageType.Invocation);
        caller.Send("""[49, 2, {"mode": "kill"}]""");
        Assert.Equal("wamp.error.canceled", (await caller.ReceiveAsync(WampMessageType.Error)).Uri);
        await plainCallee.AssertNothingPendingAsync();

        caller.Send("""[49, 77, {"mode": "kill"}]"""); // unknown call: ignored
        await caller.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Progressive_results_are_relayed_when_the_caller_asked_for_them()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.import");
        caller.Send("""[48, 1, {"receive_progress": true}, "com.example.import"]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        Assert.True(inv.Dict.GetBool("receive_progress"u8));
        callee.Send($$"""[70, {{inv.Id1}}, {"progress": true}, [1]]""");
        callee.Send($$"""[70, {{inv.Id1}}, {"progress": true}, [2]]""");
        callee.Send($$"""[70, {{inv.Id1}}, {}, [3]]""");
        Assert.Equal("""[50,1,{"progress":true},[1]]""", await caller.ReceiveTextAsync());
        Assert.Equal("""[50,1,{"progress":true},[2]]""", await caller.ReceiveTextAsync());
        Assert.Equal("""[50,1,{},[3]]""", await caller.ReceiveTextAsync());
    }

    [Fact]
    public async Task Caller_disclosure_and_x_options_reach_the_invocation_details()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.a");
        caller.Send("""[48, 1, {"disclose_me": true, "x_idempotency_key": "0190a1b2-c3d4", "x_deadline": {"remaining_ms": 250}, "other": 1}, "com.example.a"]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        Assert.Equal(caller.SessionId, inv.Dict.GetInt64("caller"u8));
        Assert.Equal("anonymous", inv.Dict.GetString("caller_authrole"u8));
        Assert.Equal("0190a1b2-c3d4", inv.Dict.GetString("x_idempotency_key"u8));
        Assert.Equal("""{"remaining_ms": 250}""", System.Text.Encoding.UTF8.GetString(inv.Dict.GetRaw("x_deadline"u8).Span));
        Assert.Null(inv.Dict.GetInt64("other"u8));

        await RegisterAsync(callee, "com.example.b", """{"disclose_caller": true}""", requestId: 2);
        caller.Send("""[48, 2, {}, "com.example.b"]""");
        Assert.Equal(caller.SessionId, (await callee.ReceiveAsync(WampMessageType.Invocation)).Dict.GetInt64("caller"u8));
    }

    [Fact]
    public async Task Shared_registrations_follow_their_invocation_policy()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var a = await RawClient.JoinAsync(router);
        await using var b = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        long id = await RegisterAsync(a, "com.example.rr", """{"invoke": "roundrobin"}""");
        Assert.Equal(id, await RegisterAsync(b, "com.example.rr", """{"invoke": "roundrobin"}"""));
        b.Send("""[64, 2, {"invoke": "roundrobin"}, "com.example.rr"]""");
        Assert.Equal("wamp.error.procedure_already_exists", (await b.ReceiveAsync(WampMessageType.Error)).Uri);
        await using (var c = await RawClient.JoinAsync(router))
        {
            c.Send("""[64, 1, {"invoke": "random"}, "com.example.rr"]""");
            Assert.Equal("wamp.error.procedure_exists_with_different_invocation_policy", (await c.ReceiveAsync(WampMessageType.Error)).Uri);
        }

        var order = new List<string>();
        for (int i = 1; i <= 4; i++)
        {
            caller.Send($$"""[48, {{i}}, {}, "com.example.rr"]""");
            var (who, callee) = i % 2 == 1 ? ("a", a) : ("b", b);
            var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
            callee.Send($"[70, {inv.Id1}, {{}}]");
            await caller.ReceiveAsync(WampMessageType.Result);
            order.Add(who);
        }
        Assert.Equal(["a", "b", "a", "b"], order);

        await RegisterAsync(a, "com.example.standby", """{"invoke": "first"}""", requestId: 3);
        await RegisterAsync(b, "com.example.standby", """{"invoke": "first"}""", requestId: 3);
        caller.Send("""[48, 10, {}, "com.example.standby"]""");
        await a.ReceiveAsync(WampMessageType.Invocation);
        await a.DisposeAsync(); // the first callee leaves: the next takes over
        Assert.Equal("wamp.error.canceled", (await caller.ReceiveAsync(WampMessageType.Error)).Uri);
        caller.Send("""[48, 11, {}, "com.example.standby"]""");
        await b.ReceiveAsync(WampMessageType.Invocation);
    }

    [Fact]
    public async Task Pattern_registrations_route_exact_first_then_longest_prefix_then_most_specific_wildcard()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        long exact = await RegisterAsync(callee, "a1.b2.c3.d4", requestId: 1);
        long prefixShort = await RegisterAsync(callee, "a1.b2", """{"match": "prefix"}""", requestId: 2);
        long prefixLong = await RegisterAsync(callee, "a1.b2.c3", """{"match": "prefix"}""", requestId: 3);
        long wildSpecific = await RegisterAsync(callee, "x1.y2..z4", """{"match": "wildcard"}""", requestId: 4);
        long wildLoose = await RegisterAsync(callee, "x1...z4", """{"match": "wildcard"}""", requestId: 5);

        async Task<(long Registration, string? Procedure)> Route(string uri, long requestId)
        {
            caller.Send($$"""[48, {{requestId}}, {}, "{{uri}}"]""");
            var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
            callee.Send($"[70, {inv.Id1}, {{}}]");
            await caller.ReceiveAsync(WampMessageType.Result);
            return (inv.Id2, inv.Dict.GetString("procedure"u8));
        }

        Assert.Equal((exact, (string?)null), await Route("a1.b2.c3.d4", 1));
        Assert.Equal((prefixLong, "a1.b2.c3.x"), await Route("a1.b2.c3.x", 2));
        Assert.Equal((prefixShort, "a1.b2x"), await Route("a1.b2x", 3));
        Assert.Equal((wildSpecific, "x1.y2.q.z4"), await Route("x1.y2.q.z4", 4));
        Assert.Equal((wildLoose, "x1.q.q.z4"), await Route("x1.q.q.z4", 5));
        caller.Send("""[48, 6, {}, "x1.y2.q.z4.more"]""");
        Assert.Equal("wamp.error.no_such_procedure", (await caller.ReceiveAsync(WampMessageType.Error)).Uri);
    }

    [Fact]
    public async Task A_callee_that_leaves_fails_its_calls_and_a_caller_that_leaves_interrupts_its_calls()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var callee = await RawClient.JoinAsync(router);
        await using var other = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.slow");
        await RegisterAsync(other, "com.example.other");

        caller.Send("""[48, 1, {}, "com.example.slow"]""");
        await callee.ReceiveAsync(WampMessageType.Invocation);
        await callee.DisposeAsync();
        var error = await caller.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("wamp.error.canceled", error.Uri);
        Assert.Contains("left before answering", error.Payload.ToString());

        caller.Send("""[48, 2, {}, "com.example.other"]""");
        var inv = await other.ReceiveAsync(WampMessageType.Invocation);
        await caller.DisposeAsync();
        Assert.Equal($$"""[69,{{inv.Id1}},{"mode":"killnowait"}]""", await other.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_callee_at_its_pending_limit_refuses_further_calls_clearly()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { MaxPendingInvocationsPerCallee = 2 });
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.slow");
        for (int i = 1; i <= 3; i++) caller.Send($$"""[48, {{i}}, {}, "com.example.slow"]""");
        var error = await caller.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((3L, "wamp.error.no_available_callee"), (error.Id2, error.Uri));
        Assert.Contains("limit 2", error.Payload.ToString());
        var first = await callee.ReceiveAsync(WampMessageType.Invocation);
        callee.Send($"[70, {first.Id1}, {{}}]");
        Assert.Equal("[50,1,{}]", await caller.ReceiveTextAsync());
    }

    [Fact]
    public async Task Oversized_calls_and_answers_are_refused_with_payload_size_exceeded_and_the_session_goes_on()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { MaxMessageSize = 10_000 });
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        await RegisterAsync(callee, "com.example.echo");
        string big = new('x', 20_000);

        caller.Send($$"""[48, 1, {}, "com.example.echo", ["{{big}}"]]""");
        var refused = await caller.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((1L, "wamp.error.payload_size_exceeded"), (refused.Id2, refused.Uri));

        caller.Send("""[48, 2, {}, "com.example.echo", ["small"]]""");
        var inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        callee.Send($$"""[70, {{inv.Id1}}, {}, ["{{big}}"]]""");
        var failed = await caller.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((2L, "wamp.error.payload_size_exceeded"), (failed.Id2, failed.Uri));

        caller.Send("""[48, 3, {}, "com.example.echo", ["small"]]""");
        inv = await callee.ReceiveAsync(WampMessageType.Invocation);
        callee.Send($$"""[70, {{inv.Id1}}, {}, ["small"]]""");
        Assert.Equal("""[50,3,{},["small"]]""", await caller.ReceiveTextAsync());
    }
}
