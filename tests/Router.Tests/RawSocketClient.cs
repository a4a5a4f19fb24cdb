using System.Net.Sockets;
using System.Text;
using WampContracts.Protocol;
using WampContracts.Serialization;

namespace WampContracts.Router.Tests;

/// <summary>
/// A raw RawSocket client on loopback TCP, for what a well-behaved transport never sends: bad handshakes, reserved
/// bits, lying length prefixes, frames cut short. Every wait is bounded.
/// </summary>
internal sealed class RawSocketClient : IAsyncDisposable
{
    public static readonly TimeSpan Bound = SocketClient.Bound;

    private readonly Socket _socket;
    private readonly WampSerializer _serializer;

    private RawSocketClient(Socket socket, WampSerializer serializer)
    {
        _socket = socket;
        _serializer = serializer;
    }

    public static async Task<Socket> OpenAsync(Uri url)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(url.Host, url.Port).WaitAsync(Bound);
        return socket;
    }

    /// <summary>Connects and runs the handshake; returns the router's 4-byte reply with the client.</summary>
    public static async Task<(RawSocketClient Client, byte[] Reply)> HandshakeAsync(Uri url, WampSerializer serializer, int exponent = 15)
    {
        var socket = await OpenAsync(url);
        await socket.SendAsync(new byte[] { 0x7F, (byte)(exponent << 4 | serializer.RawSocketId), 0, 0 }).WaitAsync(Bound);
        var reply = await ReadExactlyAsync(socket, 4);
        Assert.NotNull(reply);
        return (new RawSocketClient(socket, serializer), reply);
    }

    public static async Task<RawSocketClient> JoinAsync(Uri url, WampSerializer serializer)
    {
        var (client, reply) = await HandshakeAsync(url, serializer);
        Assert.Equal(serializer.RawSocketId, reply[1] & 0x0f);
        await client.SendAsync("""[1, "realm1", {"roles": {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}}]""");
        Assert.Equal(WampMessageType.Welcome, (await client.ReceiveAsync())!.Value.Type);
        return client;
    }

    public static async Task<byte[]?> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Bound);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // Closed with bytes of ours still unread: TCP resets instead of ending the stream.
                return null;
            }
            if (n == 0) return null;
            read += n;
        }
        return buffer;
    }

    public Socket Socket => _socket;

    /// <summary>Sends raw bytes (a header, part of a frame, anything).</summary>
    public Task SendRawAsync(byte[] bytes) => _socket.SendAsync(bytes.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Bound);

    public static byte[] Frame(int type, ReadOnlySpan<byte> payload) =>
        [(byte)type, (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];

    /// <summary>Sends a JSON message in the connection's serializer.</summary>
    public Task SendAsync(string json)
    {
        byte[] buffer = [];
        int n = _serializer.FromJson(Encoding.UTF8.GetBytes(json), ref buffer);
        return SendRawAsync(Frame(0, buffer.AsSpan(0, n)));
    }

    /// <summary>The next WAMP message (as JSON), or null once the router closed the connection.</summary>
    public async Task<WampMessage?> ReceiveAsync()
    {
        while (true)
        {
            var frame = await ReceiveFrameAsync();
            if (frame is null) return null;
            if (frame.Value.Type != 0) continue;
            return WampMessageParser.Parse(_serializer.ToJson(frame.Value.Payload));
        }
    }

    public async Task<(int Type, byte[] Payload)?> ReceiveFrameAsync()
    {
        var header = await ReadExactlyAsync(_socket, 4);
        if (header is null) return null;
        int length = header[1] << 16 | header[2] << 8 | header[3];
        var payload = await ReadExactlyAsync(_socket, length);
        if (payload is null) return null;
        return (header[0] & 7, payload);
    }

    /// <summary>Reads until the router closes the connection; the messages it sent on the way.</summary>
    public async Task<List<WampMessage>> DrainUntilClosedAsync()
    {
        var messages = new List<WampMessage>();
        while (await ReceiveAsync() is { } m) messages.Add(m);
        return messages;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
