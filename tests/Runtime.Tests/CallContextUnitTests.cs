using System.Diagnostics;
using System.Text;
using WampContracts.Protocol;

namespace WampContracts.Tests;

/// <summary>What a call carries beyond its arguments (metadata, attempt, trace context) on the wire, and what a callee reads of it.</summary>
public sealed class CallContextUnitTests
{
    private static string Text(ReadOnlyMemory<byte> json) => Encoding.UTF8.GetString(json.Span);

    [Fact]
    public async Task Ambient_metadata_and_the_trace_context_go_out_as_x_options_and_in_the_carrier()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { MetadataInPayload = true });
        await using var __ = session;
        await using var _ = router;
        using var source = new ActivitySource("CallContextUnitTests");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var activity = source.StartActivity("outer")!;
        activity.TraceStateString = "vendor=1";

        Task<WampResult> call;
        using (WampCallContext.WithMetadata("x_tenant", "acme"))
        using (WampCallContext.WithMetadata("x_region", "eu"))
            call = session.CallAsync("com.example.get", WampPayload.FromArgs(1));
        var sent = await router.ReceiveAsync(WampMessageType.Call);

        Assert.Equal("acme", sent.Dict.GetString("x_tenant"u8));
        Assert.Equal("eu", sent.Dict.GetString("x_region"u8));
        Assert.Equal(activity.Id, sent.Dict.GetString("x_traceparent"u8));
        Assert.Equal("vendor=1", sent.Dict.GetString("x_tracestate"u8));
        Assert.Null(sent.Dict.GetInt64("x_attempt"u8)); // only retries say which attempt they are
        var carrier = new WampDict(sent.Payload.KeywordArgumentsJson).GetDict("x_wampcontracts"u8);
        Assert.Equal(activity.Id, carrier.GetString("traceparent"u8));
        Assert.Equal("""{"x_tenant":"acme","x_region":"eu"}""", Text(carrier.GetDict("metadata"u8).Json));

        router.Send($"[50, {sent.Id1}, {{}}, [2]]");
        Assert.Equal(2, (await call.WaitAsync(ScriptedRouter.Bound)).Payload.GetArgument<int>(0));
        Assert.Null(WampCallContext.Current); // the scopes are over
    }

    [Fact]
    public void Metadata_keys_are_x_then_lowercase_letters_digits_and_underscores()
    {
        foreach (var key in new[] { "tenant", "x_", "x_Tenant", "x_1tenant", "x_ten-ant", "x_traceparent", "x_attempt", "x_idempotency_key" })
            Assert.Throws<ArgumentException>(() => WampCallContext.WithMetadata(key, "acme"));
        using var _ = WampCallContext.WithMetadata("x_tenant_2", "acme");
        Assert.Equal("acme", WampCallContext.Current!["x_tenant_2"]);
    }

    [Fact]
    public async Task A_key_an_interceptor_adds_is_checked_before_anything_is_sent_and_custom_options_win_over_metadata()
    {
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { CallInterceptors = [new AddKey()] });
        await using var __ = session;
        await using var _ = router;
        await Assert.ThrowsAsync<ArgumentException>(() => session.CallAsync("com.example.bad"));

        Task<WampResult> call;
        using (WampCallContext.WithMetadata("x_tenant", "from-metadata"))
            call = session.CallAsync("com.example.get", default, new WampCallOptions { CustomOptions = new Dictionary<string, string> { ["x_tenant"] = "\"from-options\"" } });
        var sent = await router.ReceiveAsync(WampMessageType.Call); // the bad call sent nothing: this is the first CALL
        Assert.Equal("com.example.get", sent.Uri);
        Assert.Equal("""{"timeout":30000,"x_tenant":"from-options","x_added":"yes"}""", Text(sent.Dict.Json));
        router.Send($"[50, {sent.Id1}, {{}}]");
        await call.WaitAsync(ScriptedRouter.Bound);
    }

    private sealed class AddKey : IWampCallInterceptor
    {
        public Task<WampResult> CallAsync(WampOutgoingCall call, WampCallContinuation next, CancellationToken cancellationToken)
        {
            call.Metadata[call.Procedure == "com.example.bad" ? "x_Bad" : "x_added"] = "yes";
            return next(call, cancellationToken);
        }
    }

    [Fact]
    public async Task A_callee_reads_metadata_attempt_and_caller_from_details_or_from_the_carrier()
    {
        var (router, session) = await ScriptedRouter.JoinAsync();
        await using var __ = session;
        await using var _ = router;
        var seen = new List<(string?, string?, int, long?, string?, string?)>();
        var registering = session.RegisterAsync("com.example.who", (context, ct) =>
        {
            seen.Add((context.GetMetadata("x_tenant"), context.GetMetadata("x_missing"), context.Attempt, context.Caller, context.CallerAuthId, context.CallerAuthRole));
            return ValueTask.FromResult(WampPayload.Empty);
        });
        var register = await router.ReceiveAsync(WampMessageType.Register);
        router.Send($"[65, {register.Id1}, 100]");
        await registering.WaitAsync(ScriptedRouter.Bound);

        // A router that forwards x_ options and discloses the caller.
        router.Send("""[68, 1, 100, {"x_tenant": "acme", "x_attempt": 2, "caller": 42, "caller_authid": "joe", "caller_authrole": "frontend"}]""");
        await router.ReceiveAsync(WampMessageType.Yield);
        // A router that drops them (fox-wamp): the carrier has them.
        router.Send("""[68, 2, 100, {}, [], {"x_wampcontracts": {"attempt": 3, "metadata": {"x_tenant": "globex"}}}]""");
        await router.ReceiveAsync(WampMessageType.Yield);
        // Neither: defaults.
        router.Send("""[68, 3, 100, {}]""");
        await router.ReceiveAsync(WampMessageType.Yield);

        Assert.Equal(
            [("acme", null, 2, 42, "joe", "frontend"), ("globex", null, 3, null, null, null), (null, null, 1, null, null, null)],
            seen);
        Assert.Null(WampInvocationContext.Current);
    }
}
