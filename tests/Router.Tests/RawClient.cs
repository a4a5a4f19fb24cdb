using System.Text;
using System.Text.RegularExpressions;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Router.Tests;

/// <summary>A client that speaks raw WAMP frames to a router over an in-memory transport. Every wait is bounded.</summary>
internal sealed partial class RawClient : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public const string CalleeFeatures = """{"callee": {"features": {"call_canceling": true, "call_timeout": true, "progressive_call_results": true}}, "caller": {}, "publisher": {}, "subscriber": {}}""";
    public const string PlainRoles = """{"callee": {}, "caller": {}, "publisher": {}, "subscriber": {}}""";

    private readonly IWampTransport _transport;

    private RawClient(IWampTransport transport) => _transport = transport;

    public long SessionId { get; private set; }

    public static RawClient Connect(WampRouter router) => new(router.ConnectInMemory());

    /// <summary>A client over a transport of the test's own making.</summary>
    public static RawClient Over(IWampTransport transport) => new(transport);

    public async Task JoinAsync(string roles = CalleeFeatures, string realm = "realm1")
    {
        Send($$"""[1, "{{realm}}", {"roles": {{roles}}}]""");
        SessionId = (await ReceiveAsync(WampMessageType.Welcome)).Id1;
    }

    /// <summary>
    /// Connects and joins <paramref name="realm"/>, returning the client with its session id. With
    /// <paramref name="authRole"/> it authenticates with a ticket naming that role, which a realm configured by
    /// <see cref="TestRealms.WithRoleTickets"/> grants.
    /// </summary>
    public static async Task<RawClient> JoinAsync(WampRouter router, string roles = CalleeFeatures, string realm = "realm1", string? authRole = null)
    {
        var client = Connect(router);
        client.Send(TestRealms.Hello(realm, roles, authRole));
        var answer = await client.ReceiveAsync();
        if (authRole is not null && answer.Type == WampMessageType.Challenge)
        {
            client.Send(TestRealms.Authenticate(authRole));
            answer = await client.ReceiveAsync();
        }
        Assert.True(answer.Type == WampMessageType.Welcome, $"expected Welcome, got {answer}");
        var welcome = answer;
        client.SessionId = welcome.Id1;
        return client;
    }

    public void Send(string json) => _transport.SendAsync(Encoding.UTF8.GetBytes(json), CancellationToken.None).AsTask().Wait(Bound);

    public async Task<WampMessage> ReceiveAsync()
    {
        var r = await _transport.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.False(r.IsClosed, "the router closed the connection");
        return WampMessageParser.Parse(r.Message);
    }

    public async Task<WampMessage> ReceiveAsync(WampMessageType expected)
    {
        var m = await ReceiveAsync();
        Assert.True(m.Type == expected, $"expected {expected}, got {m}");
        return m;
    }

    /// <summary>The next message as JSON text, with the random ids of the publication/session replaced by <c>ID</c> where asked.</summary>
    public async Task<string> ReceiveTextAsync() => (await ReceiveAsync()).ToString();

    /// <summary>Asserts that nothing arrives before a marker round trip (a call to a missing procedure) comes back.</summary>
    public async Task AssertNothingPendingAsync()
    {
        Send("""[48, 999999, {}, "test.marker.none"]""");
        var m = await ReceiveAsync();
        Assert.True(m.Type == WampMessageType.Error && m.Id2 == 999999, $"expected nothing before the marker, got {m}");
    }

    public async Task<bool> ClosedAsync()
    {
        while (true)
        {
            var r = await _transport.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
            if (r.IsClosed) return true;
        }
    }

    public static string Scrub(string json) => IdPattern().Replace(json, "ID");

    [GeneratedRegex(@"(?<=""(session|publisher)"":)\d+")]
    private static partial Regex IdPattern();

    public ValueTask DisposeAsync()
    {
        _transport.Abort();
        return ValueTask.CompletedTask;
    }
}
