using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;
using static WampContracts.Router.Tests.AuthorizationTests;

namespace WampContracts.Router.Tests;

/// <summary>A role decided by a dynamic authorizer: allow, deny, throw, time out, disclose, and the session's order kept.</summary>
public class DynamicAuthorizerTests
{
    private static WampRouter CreateWith(WampAuthorizer authorizer, FakeTimeProvider? clock = null, CapturingLoggerFactory? log = null)
    {
        var realm = Bank(new WampRole { Name = "dynamic", Authorizer = authorizer });
        return Create(new WampRouterOptions
        {
            RealmSettings = [realm],
            TimeProvider = (TimeProvider?)clock ?? TimeProvider.System,
            LoggerFactory = (Microsoft.Extensions.Logging.ILoggerFactory?)log ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
        });
    }

    [Fact]
    public async Task An_allowing_authorizer_is_asked_with_the_session_action_uri_and_options()
    {
        var asked = new List<WampAuthorizationRequest>();
        await using var router = CreateWith((request, _) =>
        {
            lock (asked) asked.Add(request);
            return ValueTask.FromResult(WampAuthorization.Allowed);
        });
        await using var client = await JoinAsync(router, "dynamic");

        client.Send("""[48, 1, {"x_trace": "t-1"}, "com.shop.list"]""");
        await ExpectErrorAsync(client, WampMessageType.Call, 1, WampUris.NoSuchProcedure); // allowed; nobody registered it
        client.Send("""[64, 2, {"match": "prefix"}, "com.shop."]""");
        await client.ReceiveAsync(WampMessageType.Registered);
        client.Send("""[32, 3, {"match": "wildcard"}, "com..created"]""");
        await client.ReceiveAsync(WampMessageType.Subscribed);
        client.Send("""[16, 4, {"acknowledge": true}, "com.shop.created"]""");
        await client.ReceiveAsync(WampMessageType.Published);
        // Requests the realm refuses anyway never reach the authorizer.
        client.Send("""[64, 5, {}, "wamp.session.list"]""");
        await ExpectErrorAsync(client, WampMessageType.Register, 5, WampUris.InvalidUri);
        client.Send("""[32, 6, {}, "com..bad"]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 6, WampUris.InvalidUri);

        Assert.Equal(
            [(WampAction.Call, "com.shop.list", WampMatch.Exact), (WampAction.Register, "com.shop.", WampMatch.Prefix),
             (WampAction.Subscribe, "com..created", WampMatch.Wildcard), (WampAction.Publish, "com.shop.created", WampMatch.Exact)],
            asked.Select(r => (r.Action, r.Uri, r.Match)));
        var call = asked[0];
        Assert.Equal(("bank", client.SessionId, "dynamic"), (call.Realm, call.SessionId, call.AuthRole));
        Assert.Equal("dynamic-user", call.AuthId); // the authid the session authenticated with
        Assert.Equal("t-1", call.Options.GetProperty("x_trace").GetString());
        Assert.True(asked[3].Options.GetProperty("acknowledge").GetBoolean());
    }

    [Fact]
    public async Task A_denying_authorizer_refuses_with_not_authorized_and_the_meta_api_too()
    {
        await using var router = CreateWith((request, _) =>
            ValueTask.FromResult(request.Uri.StartsWith("com.open.", StringComparison.Ordinal) ? WampAuthorization.Allowed : WampAuthorization.Denied));
        await using var client = await JoinAsync(router, "dynamic");
        client.Send("""[48, 1, {}, "com.closed.x"]""");
        Assert.Equal("authrole 'dynamic' is not authorized to call 'com.closed.x' in realm 'bank'",
            await ExpectErrorAsync(client, WampMessageType.Call, 1, WampUris.NotAuthorized));
        client.Send("""[48, 2, {}, "wamp.session.list"]""");
        await ExpectErrorAsync(client, WampMessageType.Call, 2, WampUris.NotAuthorized);
        client.Send("""[32, 3, {}, "wamp.session.on_join"]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 3, WampUris.NotAuthorized);
        client.Send("""[48, 4, {}, "com.open.x"]""");
        await ExpectErrorAsync(client, WampMessageType.Call, 4, WampUris.NoSuchProcedure);
    }

    [Fact]
    public async Task An_authorizer_that_throws_denies_with_authorization_failed_and_is_logged()
    {
        var log = new CapturingLoggerFactory();
        await using var router = CreateWith((request, _) => request.Uri == "com.boom"
            ? throw new InvalidOperationException("the policy store is down")
            : ValueTask.FromResult(WampAuthorization.Allowed), log: log);
        await using var client = await JoinAsync(router, "dynamic");
        client.Send("""[48, 1, {}, "com.boom"]""");
        string message = await ExpectErrorAsync(client, WampMessageType.Call, 1, Core.Realm.AuthorizationFailed);
        Assert.Equal("could not authorize call 'com.boom': the authorizer of authrole 'dynamic' failed", message);
        Assert.DoesNotContain("policy store", message); // the exception stays in the router's log
        Assert.Contains(log.Entries, e => e.Id.Id == 2021 && e.Exception is InvalidOperationException);

        // An authorizer whose task faults later is handled the same way, and the session goes on.
        await using var router2 = CreateWith(async (request, _) =>
        {
            await Task.Yield();
            throw new InvalidOperationException("late");
        });
        await using var other = await JoinAsync(router2, "dynamic");
        other.Send("""[32, 1, {}, "com.x"]""");
        await ExpectErrorAsync(other, WampMessageType.Subscribe, 1, Core.Realm.AuthorizationFailed);
        other.Send("""[32, 2, {}, "com.y"]""");
        await ExpectErrorAsync(other, WampMessageType.Subscribe, 2, Core.Realm.AuthorizationFailed);
    }

    [Fact]
    public async Task An_authorizer_that_does_not_answer_in_time_denies_with_authorization_failed_and_the_session_goes_on()
    {
        var clock = new FakeTimeProvider();
        var log = new CapturingLoggerFactory();
        var hanging = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var router = CreateWith((request, cancellationToken) =>
        {
            if (request.Uri != "com.slow") return ValueTask.FromResult(WampAuthorization.Allowed);
            hanging.TrySetResult(cancellationToken);
            return new ValueTask<WampAuthorization>(new TaskCompletionSource<WampAuthorization>().Task); // never answers, ignores the token
        }, clock, log);
        await using var client = await JoinAsync(router, "dynamic");

        client.Send("""[48, 1, {}, "com.slow"]""");
        var token = await hanging.Task.WaitAsync(RawClient.Bound);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("could not authorize call 'com.slow': the authorizer of authrole 'dynamic' did not answer within 5000 ms",
            await ExpectErrorAsync(client, WampMessageType.Call, 1, Core.Realm.AuthorizationFailed));
        Assert.True(token.IsCancellationRequested);
        Assert.Contains(log.Entries, e => e.Id.Id == 2022);

        client.Send("""[48, 2, {}, "com.fast"]""");
        await ExpectErrorAsync(client, WampMessageType.Call, 2, WampUris.NoSuchProcedure);
    }

    [Fact]
    public async Task The_authorizer_decides_disclosure_of_the_caller_and_the_publisher()
    {
        await using var router = CreateWith((request, _) => ValueTask.FromResult(new WampAuthorization(true, Disclose: request.Uri.EndsWith(".shown", StringComparison.Ordinal))));
        await using var callee = await JoinAsync(router, "dynamic");
        callee.Send("""[64, 1, {}, "com.bank.shown"]""");
        await callee.ReceiveAsync(WampMessageType.Registered);
        callee.Send("""[64, 2, {"disclose_caller": true}, "com.bank.hidden"]""");
        await callee.ReceiveAsync(WampMessageType.Registered);
        callee.Send("""[32, 3, {"match": "prefix"}, "com.news."]""");
        await callee.ReceiveAsync(WampMessageType.Subscribed);
        await using var caller = await JoinAsync(router, "dynamic");

        caller.Send("""[48, 1, {}, "com.bank.shown"]""");
        Assert.Equal(caller.SessionId, (await callee.ReceiveAsync(WampMessageType.Invocation)).Dict.GetInt64("caller"u8));
        caller.Send("""[48, 2, {}, "com.bank.hidden"]""");
        Assert.Null((await callee.ReceiveAsync(WampMessageType.Invocation)).Dict.GetInt64("caller"u8));
        caller.Send("""[16, 3, {}, "com.news.shown"]""");
        Assert.Equal(caller.SessionId, (await callee.ReceiveAsync(WampMessageType.Event)).Dict.GetInt64("publisher"u8));
        caller.Send("""[16, 4, {"disclose_me": true}, "com.news.hidden"]""");
        Assert.Null((await callee.ReceiveAsync(WampMessageType.Event)).Dict.GetInt64("publisher"u8));
    }

    [Fact]
    public async Task A_sessions_messages_wait_for_its_pending_authorization_and_keep_their_order()
    {
        var gate = new TaskCompletionSource<WampAuthorization>(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int asked = 0;
        await using var router = CreateWith((request, _) =>
        {
            Interlocked.Increment(ref asked);
            if (request.Uri != "com.first") return ValueTask.FromResult(WampAuthorization.Denied);
            firstAsked.SetResult();
            return new ValueTask<WampAuthorization>(gate.Task);
        });
        await using var client = await JoinAsync(router, "dynamic");
        await using var bystander = await JoinAsync(router, "frontend");

        client.Send("""[48, 1, {}, "com.first"]""");
        client.Send("""[48, 2, {}, "com.second"]""");
        await firstAsked.Task.WaitAsync(RawClient.Bound);
        // Other sessions are not held up meanwhile.
        bystander.Send("""[48, 1, {}, "com.bank.x"]""");
        await ExpectErrorAsync(bystander, WampMessageType.Call, 1, WampUris.NoSuchProcedure);
        Assert.Equal(1, Volatile.Read(ref asked));

        gate.SetResult(WampAuthorization.Allowed);
        await ExpectErrorAsync(client, WampMessageType.Call, 1, WampUris.NoSuchProcedure);
        await ExpectErrorAsync(client, WampMessageType.Call, 2, WampUris.NotAuthorized);
    }
}
