using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WampContracts.Router.Tests;

/// <summary>
/// <see cref="WampRouterOptions.KeepAliveInterval"/> and <see cref="WampRouterOptions.KeepAliveTimeout"/>: a joined
/// session whose peer answers no WebSocket ping is dropped, one that answers is kept. The keepalive runs on the
/// real clock, so this waits real time (about 2 to 4 s with the values below).
/// </summary>
public sealed class KeepAliveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // Interval + timeout is 2 s; the keepalive timer ticks every max(1 s, a quarter of the smaller), so the drop is
    // due after at most about 4 s. The bound leaves room for a loaded machine; the point is that it is not forever.
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1), PongTimeout = TimeSpan.FromSeconds(1), DropBound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_joined_session_that_answers_no_ping_is_dropped_within_the_keepalive_interval_and_timeout()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, KeepAliveInterval = Interval, KeepAliveTimeout = PongTimeout });
        // A well-behaved session (ClientWebSocket answers pings while it reads, and the session always reads) stays.
        await using var alive = await WampSession.ConnectAsync(router.Url!, "realm1").WaitAsync(Bound);
        await using var registration = await alive.RegisterAsync("com.example.ping", (inv, ct) => ValueTask.FromResult(WampPayload.FromArgs("pong")));
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var leaves = await alive.SubscribeAsync("wamp.session.on_leave", (e, ct) =>
        {
            left.TrySetResult();
            return ValueTask.CompletedTask;
        });

        using var dead = await JoinThenGoSilentAsync(router.Url!);
        var silent = Stopwatch.StartNew();
        Assert.Equal(2, router.SessionCount);

        // The peer's kernel still takes in the router's pings (as it would for a frozen process); nothing answers them.
        await DrainUntilClosedAsync(dead.GetStream()).WaitAsync(DropBound);
        silent.Stop();
        // Not before a ping could have gone unanswered: the keepalive dropped it, nothing else did.
        Assert.True(silent.Elapsed >= Interval, $"dropped after {silent.Elapsed.TotalMilliseconds:0} ms");

        Assert.True(alive.IsConnected);
        var result = await alive.CallAsync("com.example.ping").WaitAsync(Bound);
        Assert.Equal("pong", result.Payload.GetArgument<string>(0));
        // The connection closes as the router lets the session go; once its leave is announced, it is gone.
        await left.Task.WaitAsync(Bound);
        Assert.Equal(1, router.SessionCount);
    }

    /// <summary>
    /// A raw TCP client that completes the WebSocket handshake by hand, joins realm1, reads the WELCOME, then never
    /// sends anything again, so no ping is answered (a peer that froze, or a middlebox that keeps the TCP connection of
    /// a vanished peer open).
    /// </summary>
    private static async Task<TcpClient> JoinThenGoSilentAsync(Uri url)
    {
        var client = new TcpClient();
        await client.ConnectAsync(url.Host, url.Port).WaitAsync(Bound);
        var stream = client.GetStream();
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET / HTTP/1.1\r\nHost: {url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n"));
        string response = await ReadHeadersAsync(stream).WaitAsync(Bound);
        Assert.StartsWith("HTTP/1.1 101", response);

        byte[] hello = Encoding.UTF8.GetBytes("""[1, "realm1", {"roles": {"caller": {}}}]""");
        byte[] mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[6 + hello.Length];
        frame[0] = 0x81;                          // FIN, text
        frame[1] = (byte)(0x80 | hello.Length);   // masked, as a client must; length < 126
        mask.CopyTo(frame, 2);
        for (int i = 0; i < hello.Length; i++) frame[6 + i] = (byte)(hello[i] ^ mask[i % 4]);
        await stream.WriteAsync(frame);

        // The WELCOME: an unmasked text frame with a short payload.
        var header = new byte[2];
        await stream.ReadExactlyAsync(header).AsTask().WaitAsync(Bound);
        int length = header[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await stream.ReadExactlyAsync(ext).AsTask().WaitAsync(Bound);
            length = (ext[0] << 8) | ext[1];
        }
        var welcome = new byte[length];
        await stream.ReadExactlyAsync(welcome).AsTask().WaitAsync(Bound);
        Assert.StartsWith("[2,", Encoding.UTF8.GetString(welcome));
        return client;
    }

    /// <summary>Reads and drops whatever arrives until the router closes the connection.</summary>
    private static async Task DrainUntilClosedAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
            // reset by the router: closed as well
        }
    }

    private static async Task<string> ReadHeadersAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4 || !(bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0 || bytes.Count > 16 * 1024) throw new IOException("the router closed during the handshake");
            bytes.Add(one[0]);
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    [Theory]
    [InlineData(-2000, 1000)]
    [InlineData(1000, -5)]
    public void Negative_keepalive_settings_are_refused(int intervalMs, int timeoutMs) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => WampRouter.CreateInMemory(new WampRouterOptions
        {
            KeepAliveInterval = TimeSpan.FromMilliseconds(intervalMs),
            KeepAliveTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        }));
}
