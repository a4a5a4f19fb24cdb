using WampContracts.Router;
using WampContracts.Transport;

namespace WampContracts.EndToEnd.Tests;

/// <summary>Our client authenticating to our router with each method, over real WebSockets on loopback.</summary>
public sealed class AuthenticationEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly WampCryptosignKey _deviceKey = WampCryptosignKey.Generate();
    private volatile string _currentToken = "token-1";
    private WampRouter _router = null!;

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions
        {
            Port = 0,
            RealmSettings =
            [
                new WampRealmOptions
                {
                    Name = "realm1",
                    Authentication =
                    [
                        new WampTicketAuthenticator
                        {
                            Principals = new Dictionary<string, WampTicketPrincipal> { ["joe"] = new("joe-ticket", "frontend") },
                            // A token service: only the current token is good.
                            Verify = (authId, ticket, ct) => new(authId == "svc" && ticket == _currentToken ? new WampPrincipal("svc", "service") : null),
                        },
                        new WampCraAuthenticator
                        {
                            Principals = new Dictionary<string, WampCraPrincipal>
                            {
                                ["peter"] = new("peter-secret", "backend"),
                                ["salty"] = WampCraPrincipal.FromPassword("salty-secret", "backend", salt: "salt123", iterations: 1000, keyLength: 32),
                            },
                        },
                        new WampCryptosignAuthenticator
                        {
                            Principals = new Dictionary<string, WampCryptosignPrincipal> { ["device-1"] = new([_deviceKey.PublicKeyHex], "device") },
                        },
                        new WampAnonymousAuthenticator { Role = "guest" },
                    ],
                    // Every role may read the session meta API, to see what it is known as.
                    Roles = [.. new[] { "frontend", "backend", "service", "device", "guest" }.Select(role =>
                        new WampRole { Name = role, Permissions = [new WampPermission("wamp.session.", WampMatch.Prefix) { Call = true }] })],
                },
            ],
        });
    }

    public async Task DisposeAsync()
    {
        await _router.DisposeAsync();
        _deviceKey.Dispose();
    }

    private Task<WampSession> ConnectAsync(string? authId, params WampCredential[] methods) =>
        WampSession.ConnectAsync(_router.Url!, "realm1", new WampSessionOptions { Authentication = new WampAuthentication { AuthId = authId, Methods = methods } });

    public static TheoryData<string> Methods => new() { "ticket", "wampcra", "wampcra-salted", "cryptosign" };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Our_client_joins_with_each_method_and_knows_who_it_is(string method)
    {
        await using var session = method switch
        {
            "ticket" => await ConnectAsync("joe", WampCredential.Ticket("joe-ticket")),
            "wampcra" => await ConnectAsync("peter", WampCredential.WampCra("peter-secret")),
            "wampcra-salted" => await ConnectAsync("salty", WampCredential.WampCra("salty-secret")),
            _ => await ConnectAsync(null, WampCredential.Cryptosign(_deviceKey)),
        };
        var expected = method switch
        {
            "ticket" => ("joe", "frontend", "ticket"),
            "wampcra" => ("peter", "backend", "wampcra"),
            "wampcra-salted" => ("salty", "backend", "wampcra"),
            _ => ("device-1", "device", "cryptosign"),
        };
        Assert.Equal(expected, (session.AuthId, session.AuthRole, session.AuthMethod));
        Assert.Equal("static", session.AuthProvider);

        // The session works, and the meta API reports how it authenticated.
        var info = await session.CallAsync("wamp.session.get", WampPayload.FromArgs(session.SessionId)).WaitAsync(Bound);
        Assert.Equal(expected.Item3, info.Payload.Arguments[0].GetProperty("authmethod").GetString());
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Wrong_secrets_are_refused_with_an_authentication_exception(string method)
    {
        using var stranger = WampCryptosignKey.Generate();
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() => method switch
        {
            "ticket" => ConnectAsync("joe", WampCredential.Ticket("guess")),
            "wampcra" => ConnectAsync("peter", WampCredential.WampCra("guess")),
            "wampcra-salted" => ConnectAsync("salty", WampCredential.WampCra("guess")),
            _ => ConnectAsync("device-1", WampCredential.Cryptosign(stranger)),
        });
        Assert.Equal("wamp.error.not_authorized", e.Reason);
        Assert.Equal(method.Split('-')[0], e.AuthMethod);
    }

    [Fact]
    public async Task Methods_are_tried_in_the_clients_order_and_anonymous_is_granted_its_configured_role()
    {
        await using var ticket = await ConnectAsync("joe", WampCredential.Ticket("joe-ticket"), WampCredential.Anonymous);
        Assert.Equal("ticket", ticket.AuthMethod);
        await using var anonymous = await ConnectAsync("joe", WampCredential.Anonymous, WampCredential.Ticket("joe-ticket"));
        Assert.Equal(("anonymous", "guest"), (anonymous.AuthMethod, anonymous.AuthRole));
    }

    [Fact]
    public async Task A_reconnecting_session_asks_its_callback_again_and_presents_the_fresh_token()
    {
        int asked = 0;
        WebSocketTransport? current = null;
        var options = new WampSessionOptions
        {
            Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(20) },
            Authentication = new WampAuthentication
            {
                AuthId = "svc",
                Methods = [WampCredential.Ticket(_ => { Interlocked.Increment(ref asked); return new(_currentToken); })],
            },
        };
        await using var session = await WampSession.JoinAsync(async ct =>
            current = await WebSocketTransport.ConnectAsync(_router.Url!, Bound, 1 << 20, ct), "realm1", options);
        long first = session.SessionId;
        Assert.Equal(1, asked);

        // The token rotates (the old one is refused from now on), then the connection drops.
        _currentToken = "token-2";
        current!.Abort();
        using var stop = new CancellationTokenSource(Bound);
        while (session.SessionId == first || !session.IsConnected) await Task.Delay(10, stop.Token);
        Assert.Equal(2, asked);
        Assert.Equal(("svc", "service", "dynamic"), (session.AuthId, session.AuthRole, session.AuthProvider));
    }
}
