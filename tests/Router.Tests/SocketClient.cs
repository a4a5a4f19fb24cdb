using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

/// <summary>
/// A raw WAMP client on a real loopback WebSocket, for what the in-memory transport cannot show: fragments, binary
/// frames, oversized messages, connections torn down mid-frame. Every wait is bounded.
/// </summary>
internal sealed class SocketClient : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[1 << 20];

    private SocketClient(ClientWebSocket socket) => _socket = socket;

    public long SessionId { get; private set; }

    public static async Task<SocketClient> ConnectAsync(Uri url)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("wamp.2.json");
        await socket.ConnectAsync(url, CancellationToken.None).WaitAsync(Bound);
        return new SocketClient(socket);
    }

    public static async Task<SocketClient> JoinAsync(Uri url, string realm = "realm1", string? authRole = null)
    {
        var client = await ConnectAsync(url);
        await client.SendAsync(TestRealms.Hello(realm, RawClient.CalleeFeatures, authRole));
        var answer = await client.ReceiveOrClosedAsync();
        if (authRole is not null && answer?.Type == WampMessageType.Challenge)
        {
            await client.SendAsync(TestRealms.Authenticate(authRole));
            answer = await client.ReceiveOrClosedAsync();
        }
        Assert.True(answer?.Type == WampMessageType.Welcome, $"expected Welcome, got {answer}");
        client.SessionId = answer.Value.Id1;
        return client;
    }

    public Task SendAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json));

    public Task SendAsync(byte[] message, WebSocketMessageType type = WebSocketMessageType.Text) =>
        _socket.SendAsync(message, type, endOfMessage: true, CancellationToken.None).WaitAsync(Bound);

    public Task SendPartAsync(byte[] part, bool end) =>
        _socket.SendAsync(part, WebSocketMessageType.Text, endOfMessage: end, CancellationToken.None).WaitAsync(Bound);

    /// <summary>The next message, or null once the router closed the connection.</summary>
    public async Task<WampMessage?> ReceiveOrClosedAsync()
    {
        int count = 0;
        while (true)
        {
            ValueWebSocketReceiveResult r;
            try
            {
                r = await _socket.ReceiveAsync(_buffer.AsMemory(count), CancellationToken.None).AsTask().WaitAsync(Bound);
            }
            catch (WebSocketException)
            {
                return null;
            }
            if (r.MessageType == WebSocketMessageType.Close) return null;
            count += r.Count;
            if (r.EndOfMessage) return WampMessageParser.Parse(_buffer.AsSpan(0, count).ToArray());
        }
    }

    public async Task<WampMessage> ReceiveAsync(WampMessageType expected)
    {
        var m = await ReceiveOrClosedAsync();
        Assert.True(m is not null, $"expected {expected}, but the router closed the connection");
        Assert.True(m.Value.Type == expected, $"expected {expected}, got {m}");
        return m.Value;
    }

    /// <summary>The router sent ABORT with <paramref name="reason"/> and then closed the connection.</summary>
    public async Task AssertAbortedAsync(string reason = WampUris.ProtocolViolation)
    {
        var abort = await ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(reason, abort.Uri);
        Assert.Null(await ReceiveOrClosedAsync());
    }

    /// <summary>Reads (and drops) messages until the router has closed the connection; returns how many there were.</summary>
    public async Task<int> DrainUntilClosedAsync()
    {
        int count = 0;
        while (await ReceiveOrClosedAsync() is not null) count++;
        return count;
    }

    public void Abort() => _socket.Abort();

    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Keeps the event ids of what was logged at Warning and above, to show what the router reported.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory, ILogger
{
    public ConcurrentQueue<(EventId Id, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) Entries.Enqueue((eventId, formatter(state, exception), exception));
    }
}
