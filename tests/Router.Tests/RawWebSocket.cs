using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WampContracts.Router.Tests;

/// <summary>
/// A WebSocket client written byte by byte over loopback TCP, for what <see cref="SocketClient"/> (on
/// <c>ClientWebSocket</c>) cannot send: frames that break RFC 6455, a ping between fragments, a peer that goes silent.
/// Every wait is bounded.
/// </summary>
internal static class RawWebSocket
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A WAMP upgrade request; <paramref name="extra"/> header lines are added as given.</summary>
    public static string UpgradeRequest(Uri url, string extra = "", string version = "13", string? key = null) =>
        $"GET / HTTP/1.1\r\nHost: {url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Key: {key ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))}\r\n" +
        $"Sec-WebSocket-Version: {version}\r\nSec-WebSocket-Protocol: wamp.2.json\r\n{extra}\r\n";

    /// <summary>Connects and upgrades (asserting the 101).</summary>
    public static async Task<(TcpClient Client, NetworkStream Stream)> UpgradeAsync(Uri url)
    {
        var client = new TcpClient();
        await client.ConnectAsync(url.Host, url.Port).WaitAsync(Bound);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(UpgradeRequest(url)));
        Assert.StartsWith("HTTP/1.1 101", await ReadHeadAsync(stream).WaitAsync(Bound));
        return (client, stream);
    }

    /// <summary>Connects, upgrades and joins realm1 as a caller (asserting the WELCOME).</summary>
    public static async Task<(TcpClient Client, NetworkStream Stream)> JoinAsync(Uri url)
    {
        var (client, stream) = await UpgradeAsync(url);
        await stream.WriteAsync(Frame(0x81, """[1, "realm1", {"roles": {"caller": {}}}]"""u8.ToArray()));
        var (_, welcome) = await ReadFrameAsync(stream);
        Assert.StartsWith("[2,", Encoding.UTF8.GetString(welcome));
        return (client, stream);
    }

    /// <summary>An HTTP response head, up to and with its blank line.</summary>
    public static async Task<string> ReadHeadAsync(NetworkStream stream)
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

    /// <summary>A client frame: FIN and opcode in <paramref name="first"/>, masked as a client's must be unless told otherwise.</summary>
    public static byte[] Frame(byte first, byte[] payload, bool masked = true)
    {
        var header = new List<byte> { first };
        byte mask = masked ? (byte)0x80 : (byte)0;
        if (payload.Length < 126) header.Add((byte)(mask | payload.Length));
        else header.AddRange([(byte)(mask | 126), (byte)(payload.Length >> 8), (byte)payload.Length]);
        var key = masked ? RandomNumberGenerator.GetBytes(4) : [];
        header.AddRange(key);
        var body = payload.ToArray();
        if (masked) for (int i = 0; i < body.Length; i++) body[i] ^= key[i % 4];
        return [.. header, .. body];
    }

    /// <summary>One server frame (asserted unmasked, as a server's must be): its opcode and payload.</summary>
    public static async Task<(int Opcode, byte[] Payload)> ReadFrameAsync(NetworkStream stream)
    {
        var header = new byte[2];
        await stream.ReadExactlyAsync(header).AsTask().WaitAsync(Bound);
        Assert.Equal(0, header[1] & 0x80);
        long length = header[1] & 0x7F;
        if (length >= 126)
        {
            var ext = new byte[length == 126 ? 2 : 8];
            await stream.ReadExactlyAsync(ext).AsTask().WaitAsync(Bound);
            length = 0;
            foreach (byte b in ext) length = (length << 8) | b;
        }
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload).AsTask().WaitAsync(Bound);
        return (header[0] & 0x0F, payload);
    }

    /// <summary>Reads and drops whatever arrives until the router closes the connection (unbounded: the caller bounds it).</summary>
    public static async Task DrainUntilClosedAsync(NetworkStream stream)
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
}
