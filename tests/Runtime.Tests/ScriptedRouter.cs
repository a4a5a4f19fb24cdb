using System.Text;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Tests;

/// <summary>
/// The router side of an in-memory transport, driven by the test: it reads what the client sends as parsed
/// messages and answers with raw JSON frames. Every wait is bounded.
/// </summary>
internal sealed class ScriptedRouter : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public const string AllFeaturesWelcome =
        """[2, 4242, {"roles": {"dealer": {"features": {"call_canceling": true, "progressive_call_results": true}}, "broker": {}}}]""";

    private readonly InMemoryTransport _server;

    private ScriptedRouter(InMemoryTransport client, InMemoryTransport server)
    {
        Client = client;
        _server = server;
    }

    public InMemoryTransport Client { get; }

    public static ScriptedRouter Create(int maxMessageSize = 16 * 1024 * 1024)
    {
        var (client, server) = InMemoryTransport.CreatePair(maxMessageSize);
        return new ScriptedRouter(client, server);
    }

    /// <summary>Joins a session: reads HELLO, answers <paramref name="welcome"/>.</summary>
    public static async Task<(ScriptedRouter Router, WampSession Session)> JoinAsync(WampSessionOptions? options = null, string welcome = AllFeaturesWelcome, int maxMessageSize = 16 * 1024 * 1024)
    {
        var router = Create(maxMessageSize);
        var join = WampSession.JoinAsync(router.Client, "realm1", options);
        var hello = await router.ReceiveAsync();
        Assert.Equal(WampMessageType.Hello, hello.Type);
        router.Send(welcome);
        var session = await join.WaitAsync(Bound);
        return (router, session);
    }

    public void Send(string json) =>
        Assert.True(_server.SendAsync(Encoding.UTF8.GetBytes(json), CancellationToken.None).IsCompletedSuccessfully);

    public async Task<WampMessage> ReceiveAsync()
    {
        var r = await _server.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.False(r.IsClosed, "the client closed the transport");
        return WampMessageParser.Parse(r.Message);
    }

    public async Task<WampMessage> ReceiveAsync(WampMessageType expected)
    {
        var m = await ReceiveAsync();
        Assert.True(m.Type == expected, $"expected {expected}, got {m}");
        return m;
    }

    /// <summary>True when the client closed its side (no more messages) within the bound.</summary>
    public async Task<bool> ClientClosedAsync()
    {
        while (true)
        {
            var r = await _server.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
            if (r.IsClosed) return true;
        }
    }

    /// <summary>Drops the connection as a crashed router would.</summary>
    public void Crash() => _server.Abort();

    public ValueTask DisposeAsync()
    {
        _server.Abort();
        return ValueTask.CompletedTask;
    }
}
