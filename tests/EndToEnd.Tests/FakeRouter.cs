using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;

namespace WampContracts.EndToEnd.Tests;

/// <summary>
/// A router of the test's making on a real loopback WebSocket (subprotocol <c>wamp.2.json</c>): each connection is
/// handed to the test, which writes whatever frames it likes (fragments, oversized messages, garbage) and reads
/// what the client sends. Every wait is bounded.
/// </summary>
internal sealed class FakeRouter : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public const string Welcome =
        """{"roles": {"dealer": {"features": {"call_canceling": true, "progressive_call_results": true, "call_timeout": true}}, "broker": {}}}""";

    private readonly WebApplication _app;
    private readonly Channel<FakeConnection> _accepted = Channel.CreateUnbounded<FakeConnection>();
    private long _nextSessionId = 1000;

    private FakeRouter(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<FakeRouter> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        var router = new FakeRouter(app);
        app.Run(router.AcceptAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        router.Url = new Uri($"ws://127.0.0.1:{new Uri(address).Port}/");
        return router;
    }

    private async Task AcceptAsync(HttpContext context)
    {
        var socket = await context.WebSockets.AcceptWebSocketAsync(WebSocketTransportSubprotocol);
        var connection = new FakeConnection(socket);
        await _accepted.Writer.WriteAsync(connection);
        await connection.Finished; // the request lives as long as the test uses the socket
    }

    private const string WebSocketTransportSubprotocol = "wamp.2.json";

    /// <summary>The next connection, joined: HELLO read, WELCOME sent.</summary>
    public async Task<FakeConnection> AcceptJoinedAsync()
    {
        var connection = await _accepted.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        var hello = await connection.ReceiveAsync(WampMessageType.Hello);
        Assert.NotNull(hello.Uri);
        await connection.SendAsync($"[2, {Interlocked.Increment(ref _nextSessionId)}, {Welcome}]");
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out var c)) c.Abort();
        using var timeout = new CancellationTokenSource(Bound);
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    /// <summary>Leaves process signals to the test host.</summary>
    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>One client connection to a <see cref="FakeRouter"/>.</summary>
internal sealed class FakeConnection(WebSocket socket)
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _buffer = new byte[1 << 20];

    public Task Finished => _finished.Task;

    public Task SendAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json));

    public async Task SendAsync(byte[] message) =>
        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).WaitAsync(FakeRouter.Bound);

    /// <summary>Sends one message as many WebSocket fragments of <paramref name="fragmentSize"/> bytes; with <paramref name="complete"/> false the last is never sent.</summary>
    public async Task SendFragmentsAsync(byte[] message, int fragmentSize, bool complete = true)
    {
        for (int offset = 0; offset < message.Length; offset += fragmentSize)
        {
            int length = Math.Min(fragmentSize, message.Length - offset);
            bool last = offset + length == message.Length;
            if (last && !complete) return;
            await socket.SendAsync(message.AsMemory(offset, length), WebSocketMessageType.Text, endOfMessage: last, CancellationToken.None).AsTask().WaitAsync(FakeRouter.Bound);
        }
    }

    /// <summary>Sends one fragment of a message; the message ends with the fragment sent with <paramref name="end"/>.</summary>
    public async Task SendPartAsync(byte[] part, bool end) =>
        await socket.SendAsync(part, WebSocketMessageType.Text, endOfMessage: end, CancellationToken.None).WaitAsync(FakeRouter.Bound);

    /// <summary>The next message the client sent, or null once it closed.</summary>
    public async Task<WampMessage?> ReceiveOrClosedAsync()
    {
        int count = 0;
        while (true)
        {
            ValueWebSocketReceiveResult r;
            try
            {
                r = await socket.ReceiveAsync(_buffer.AsMemory(count), CancellationToken.None).AsTask().WaitAsync(FakeRouter.Bound);
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

    public async Task<WampMessage> ReceiveAsync()
    {
        var m = await ReceiveOrClosedAsync();
        Assert.True(m is not null, "the client closed the connection");
        return m.Value;
    }

    public async Task<WampMessage> ReceiveAsync(WampMessageType expected)
    {
        var m = await ReceiveAsync();
        Assert.True(m.Type == expected, $"expected {expected}, got {m}");
        return m;
    }

    /// <summary>Reads until the client closes; returns the messages it sent on the way (an ABORT, a GOODBYE).</summary>
    public async Task<List<WampMessage>> ReceiveUntilClosedAsync()
    {
        var seen = new List<WampMessage>();
        while (await ReceiveOrClosedAsync() is { } m) seen.Add(m);
        Finish();
        return seen;
    }

    /// <summary>Tears the TCP connection down, as a crashing router would.</summary>
    public void Abort()
    {
        socket.Abort();
        Finish();
    }

    public void Finish() => _finished.TrySetResult();
}
