using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WampContracts.EndToEnd.Tests;

/// <summary>
/// The client's WebSocket keepalive against a router that stops answering: it is found dead within the keepalive
/// interval plus timeout. Kestrel's and ClientWebSocket's keepalive run on the real clock, so this waits real time
/// (about 2 to 4 s with the values below).
/// </summary>
public sealed class KeepAliveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // Interval + timeout is 2 s; the keepalive timer ticks every max(1 s, a quarter of the smaller), so the drop is
    // due after at most about 4 s. The bound leaves room for a loaded machine; the point is that it is not forever.
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1), PongTimeout = TimeSpan.FromSeconds(1), DropBound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_router_that_stops_answering_pings_is_dropped_within_the_keepalive_interval_and_timeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = new Uri($"ws://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        var router = AcceptAndWelcomeThenGoSilentAsync(listener);

        var options = new WampSessionOptions { WebSocket = new WampWebSocketOptions { KeepAliveInterval = Interval, KeepAliveTimeout = PongTimeout } };
        // Timed from before the connection (a slow handshake cannot shorten what is measured): the keepalive cannot drop
        // a connection before it exists.
        var silent = Stopwatch.StartNew();
        await using var session = await WampSession.ConnectAsync(url, "realm1", options).WaitAsync(Bound);
        using var silentRouter = await router.WaitAsync(Bound);
        Assert.True(session.IsConnected);

        await session.Completion.WaitAsync(DropBound);
        silent.Stop();
        Assert.Equal(WampConnectionException.TransportLost, session.CloseReason);
        // Not before a ping could have gone unanswered: the keepalive found it, nothing else did.
        Assert.True(silent.Elapsed >= Interval, $"dropped after {silent.Elapsed.TotalMilliseconds:0} ms");
    }

    /// <summary>
    /// A "router" that completes the WebSocket handshake by hand, answers HELLO with WELCOME, then never reads or
    /// writes again (a host that froze or vanished behind a middlebox that keeps the TCP connection open).
    /// </summary>
    private static async Task<TcpClient> AcceptAndWelcomeThenGoSilentAsync(TcpListener listener)
    {
        var client = await listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        string request = await ReadHeadersAsync(stream);
        string key = request.Split("\r\n").Single(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
        string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n"));
        await ReadFrameAsync(stream); // HELLO
        byte[] welcome = Encoding.UTF8.GetBytes("""[2, 4242, {"roles": {"broker": {}, "dealer": {}}}]""");
        await stream.WriteAsync((byte[])[0x81, (byte)welcome.Length, .. welcome]); // one unmasked text frame
        return client;
    }

    private static async Task<string> ReadHeadersAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4 || !(bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0 || bytes.Count > 16 * 1024) throw new IOException("the client closed during the handshake");
            bytes.Add(one[0]);
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    /// <summary>Reads (and drops) one masked client frame.</summary>
    private static async Task ReadFrameAsync(NetworkStream stream)
    {
        var header = new byte[2];
        await stream.ReadExactlyAsync(header);
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await stream.ReadExactlyAsync(ext);
            length = (ext[0] << 8) | ext[1];
        }
        else if (length == 127)
        {
            throw new IOException("HELLO is not that large");
        }
        var rest = new byte[4 + length]; // mask and payload
        await stream.ReadExactlyAsync(rest);
    }
}
