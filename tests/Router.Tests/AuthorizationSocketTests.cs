using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;
using static WampContracts.Router.Tests.AuthorizationTests;

namespace WampContracts.Router.Tests;

/// <summary>
/// Authorization through real loopback WebSockets: each action allowed and refused, each kind of rule, pattern
/// subscriptions, the reserved namespace and the meta API, and a dynamic authorizer; and our own client
/// (<see cref="WampSession"/>, which joins as authrole "anonymous") in a configured realm.
/// </summary>
public sealed class AuthorizationSocketTests : IAsyncLifetime
{
    private static readonly WampRole Anonymous = new()
    {
        Name = "anonymous",
        Permissions = [new("com.bank.", WampMatch.Prefix) { Call = true, Subscribe = true }],
    };

    private static readonly WampRole Ops = new()
    {
        Name = "ops",
        Permissions = [new("wamp.session.", WampMatch.Prefix) { Call = true, Subscribe = true }],
    };

    private readonly FakeTimeProvider _clock = new();
    private readonly TaskCompletionSource _slowAsked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WampRouter _router = null!;

    public async Task InitializeAsync()
    {
        WampAuthorizer authorizer = (request, _) => request.Uri switch
        {
            "com.dyn.boom" => throw new InvalidOperationException("authorizer failure"),
            "com.dyn.slow" => Hang(),
            _ => ValueTask.FromResult(new WampAuthorization(request.Uri.StartsWith("com.dyn.ok", StringComparison.Ordinal))),
        };
        _router = await WampRouter.StartAsync(TestRealms.WithRoleTickets(new WampRouterOptions
        {
            RealmSettings = [Bank(Ranked, Anonymous, Ops, new WampRole { Name = "dynamic", Authorizer = authorizer })],
            TimeProvider = _clock,
        }));

        ValueTask<WampAuthorization> Hang()
        {
            _slowAsked.TrySetResult();
            return new ValueTask<WampAuthorization>(new TaskCompletionSource<WampAuthorization>().Task);
        }
    }

    public async Task DisposeAsync()
    {
        await _router.DisposeAsync();
        var unobserved = WampContracts.Testing.UnobservedExceptions.FromLibrary();
        Assert.True(unobserved.Count == 0, string.Join("\n\n", unobserved));
    }

    private Task<SocketClient> JoinAsync(string authRole) => SocketClient.JoinAsync(_router.Url!, "bank", authRole);

    private static async Task<string> ExpectErrorAsync(SocketClient client, WampMessageType type, long requestId, string uri)
    {
        var error = await client.ReceiveAsync(WampMessageType.Error);
        Assert.Equal(((long)type, requestId, uri), (error.Id1, error.Id2, error.Uri));
        return MessageOf(error);
    }

    [Fact]
    public async Task Each_action_is_allowed_or_refused_by_its_rule()
    {
        await using var backend = await JoinAsync("backend");
        await using var frontend = await JoinAsync("frontend");

        // register: backend yes, frontend no (exact and pattern)
        await backend.SendAsync("""[64, 1, {}, "com.bank.transfer"]""");
        long registration = (await backend.ReceiveAsync(WampMessageType.Registered)).Id2;
        await frontend.SendAsync("""[64, 1, {}, "com.bank.transfer2"]""");
        await ExpectErrorAsync(frontend, WampMessageType.Register, 1, WampUris.NotAuthorized);
        await frontend.SendAsync("""[64, 2, {"match": "prefix"}, "com.bank"]""");
        await ExpectErrorAsync(frontend, WampMessageType.Register, 2, WampUris.NotAuthorized);

        // call: frontend yes, backend no
        await frontend.SendAsync("""[48, 3, {}, "com.bank.transfer"]""");
        var invocation = await backend.ReceiveAsync(WampMessageType.Invocation);
        Assert.Equal(registration, invocation.Id2);
        await backend.SendAsync($"[70, {invocation.Id1}, {{}}, [\"done\"]]");
        Assert.Equal(3, (await frontend.ReceiveAsync(WampMessageType.Result)).Id1);
        await backend.SendAsync("""[48, 2, {}, "com.bank.transfer"]""");
        Assert.Equal("authrole 'backend' is not authorized to call 'com.bank.transfer' in realm 'bank'",
            await ExpectErrorAsync(backend, WampMessageType.Call, 2, WampUris.NotAuthorized));

        // subscribe: frontend yes (exact and covered patterns), backend no; patterns wider than the rules no
        await frontend.SendAsync("""[32, 4, {}, "com.bank.news"]""");
        long exact = (await frontend.ReceiveAsync(WampMessageType.Subscribed)).Id2;
        await frontend.SendAsync("""[32, 5, {"match": "wildcard"}, "com.bank..rates"]""");
        long wildcard = (await frontend.ReceiveAsync(WampMessageType.Subscribed)).Id2;
        await frontend.SendAsync("""[32, 6, {"match": "prefix"}, "c"]""");
        await ExpectErrorAsync(frontend, WampMessageType.Subscribe, 6, WampUris.NotAuthorized);
        await frontend.SendAsync("""[32, 7, {"match": "wildcard"}, ".."]""");
        await ExpectErrorAsync(frontend, WampMessageType.Subscribe, 7, WampUris.NotAuthorized);
        await backend.SendAsync("""[32, 3, {}, "com.bank.news"]""");
        await ExpectErrorAsync(backend, WampMessageType.Subscribe, 3, WampUris.NotAuthorized);

        // publish: backend yes, frontend no
        await backend.SendAsync("""[16, 4, {"acknowledge": true}, "com.bank.news"]""");
        await backend.ReceiveAsync(WampMessageType.Published);
        Assert.Equal(exact, (await frontend.ReceiveAsync(WampMessageType.Event)).Id1);
        await backend.SendAsync("""[16, 5, {}, "com.bank.loans.rates"]""");
        Assert.Equal(wildcard, (await frontend.ReceiveAsync(WampMessageType.Event)).Id1);
        await frontend.SendAsync("""[16, 8, {"acknowledge": true}, "com.bank.news"]""");
        await ExpectErrorAsync(frontend, WampMessageType.Publish, 8, WampUris.NotAuthorized);
    }

    [Theory]
    [MemberData(nameof(Decisions), MemberType = typeof(AuthorizationTests))]
    public async Task The_most_specific_rule_decides_over_websockets(string action, string uri, bool allowed)
    {
        await using var client = await JoinAsync("ranked");
        string frame = action switch
        {
            "call" => $$"""[48, 1, {}, "{{uri}}"]""",
            "register" => $$"""[64, 1, {}, "{{uri}}"]""",
            "subscribe" => $$"""[32, 1, {}, "{{uri}}"]""",
            _ => $$"""[16, 1, {"acknowledge": true}, "{{uri}}"]""",
        };
        await client.SendAsync(frame);
        var answer = (await client.ReceiveOrClosedAsync())!.Value;
        bool refused = answer.Type == WampMessageType.Error && answer.Uri == WampUris.NotAuthorized;
        Assert.True(refused != allowed, answer.ToString());
    }

    [Fact]
    public async Task The_meta_api_and_the_reserved_namespace_over_websockets()
    {
        await using var user = await JoinAsync("frontend");
        await user.SendAsync("""[48, 1, {}, "wamp.session.list"]""");
        await ExpectErrorAsync(user, WampMessageType.Call, 1, WampUris.NotAuthorized);
        await user.SendAsync("""[32, 2, {"match": "prefix"}, "wamp"]""");
        await ExpectErrorAsync(user, WampMessageType.Subscribe, 2, WampUris.NotAuthorized);
        await user.SendAsync("""[32, 3, {}, "wamp.session.on_join"]""");
        await ExpectErrorAsync(user, WampMessageType.Subscribe, 3, WampUris.NotAuthorized);

        await using var ops = await JoinAsync("ops");
        await ops.SendAsync("""[32, 1, {}, "wamp.session.on_leave"]""");
        await ops.ReceiveAsync(WampMessageType.Subscribed);
        await ops.SendAsync("""[48, 2, {}, "wamp.session.count"]""");
        Assert.Equal("[2]", System.Text.Encoding.UTF8.GetString((await ops.ReceiveAsync(WampMessageType.Result)).Payload.ArgumentsJson.Span));
        await ops.SendAsync("""[64, 3, {}, "wamp.session.count"]""");
        await ExpectErrorAsync(ops, WampMessageType.Register, 3, WampUris.InvalidUri);
        await ops.SendAsync("""[16, 4, {"acknowledge": true}, "wamp.session.on_leave"]""");
        await ExpectErrorAsync(ops, WampMessageType.Publish, 4, WampUris.InvalidUri);

        user.Abort();
        var left = await ops.ReceiveAsync(WampMessageType.Event);
        Assert.Equal(user.SessionId, JsonSerializer.Deserialize<long>(left.Payload.GetArgumentJson(0).Span));
    }

    [Fact]
    public async Task A_dynamic_authorizer_allows_denies_fails_and_times_out_over_websockets()
    {
        await using var client = await JoinAsync("dynamic");
        await client.SendAsync("""[48, 1, {}, "com.dyn.ok"]""");
        await ExpectErrorAsync(client, WampMessageType.Call, 1, WampUris.NoSuchProcedure);
        await client.SendAsync("""[48, 2, {}, "com.dyn.no"]""");
        await ExpectErrorAsync(client, WampMessageType.Call, 2, WampUris.NotAuthorized);
        await client.SendAsync("""[48, 3, {}, "com.dyn.boom"]""");
        await ExpectErrorAsync(client, WampMessageType.Call, 3, Core.Realm.AuthorizationFailed);
        await client.SendAsync("""[48, 4, {}, "com.dyn.slow"]""");
        await _slowAsked.Task.WaitAsync(SocketClient.Bound);
        _clock.Advance(TimeSpan.FromSeconds(5));
        await ExpectErrorAsync(client, WampMessageType.Call, 4, Core.Realm.AuthorizationFailed);
        await client.SendAsync("""[64, 5, {}, "com.dyn.ok.registered"]""");
        await client.ReceiveAsync(WampMessageType.Registered);
    }

    [Fact]
    public async Task Our_client_joining_as_anonymous_gets_not_authorized_as_a_WampException()
    {
        await using var session = await WampSession.ConnectAsync(_router.Url!, "bank");
        var refused = await Assert.ThrowsAsync<WampException>(() =>
            session.RegisterAsync("com.bank.transfer", static (inv, _) => ValueTask.FromResult(inv.Payload)).WaitAsync(SocketClient.Bound));
        Assert.Equal(WampUris.NotAuthorized, refused.Uri);
        Assert.Contains("register 'com.bank.transfer'", refused.Message);
        var call = await Assert.ThrowsAsync<WampException>(() => session.CallAsync("com.shop.list").WaitAsync(SocketClient.Bound));
        Assert.Equal(WampUris.NotAuthorized, call.Uri);
        await using var subscription = await session.SubscribeAsync("com.bank.news", static (_, _) => ValueTask.CompletedTask).WaitAsync(SocketClient.Bound);
        var publish = await Assert.ThrowsAsync<WampException>(async () =>
            await session.PublishAsync("com.bank.news", options: new WampPublishOptions { Acknowledge = true }).AsTask().WaitAsync(SocketClient.Bound));
        Assert.Equal(WampUris.NotAuthorized, publish.Uri);
    }
}
