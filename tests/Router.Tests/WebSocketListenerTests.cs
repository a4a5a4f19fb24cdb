using System.Net.Sockets;
using System.Text;
using static WampContracts.Router.Tests.RawWebSocket;

namespace WampContracts.Router.Tests;

/// <summary>
/// The router's own listener (<see cref="WampRouter.StartAsync"/>), spoken to byte by byte over loopback TCP as a
/// hostile peer would: upgrade requests it must refuse with the right status and bounded reads, and WebSocket frames
/// that break RFC 6455, which end that connection and nothing else.
/// </summary>
public sealed class WebSocketListenerTests
{
    public static TheoryData<string, int> Refusals() => new()
    {
        { "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 426 },                                        // a plain HTTP request
        { "NONSENSE\r\n\r\n", 400 },                                                         // no request line
        { "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400 },       // HTTP/1.1 without Host
        { "GET / HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n", 400 },                        // a broken header line
        { "GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"X-{i}: v\r\n")) + "\r\n", 431 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + new string('a', 20_000) + "\r\n\r\n", 431 },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_request_that_is_not_a_well_formed_upgrade_is_refused_with_its_status_and_the_router_serves_the_next_client(string request, int status)
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        string response = await SendRawAsync(router.Url!, Encoding.ASCII.GetBytes(request));
        Assert.StartsWith($"HTTP/1.1 {status} ", response);
        Assert.Contains("Connection: close", response);
        await JoinsAsync(router);
    }

    [Fact]
    public async Task A_websocket_version_other_than_13_is_refused_with_426_naming_version_13_and_a_malformed_key_with_400()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        string wrongVersion = await SendRawAsync(router.Url!, Encoding.ASCII.GetBytes(UpgradeRequest(router.Url!, version: "8")));
        Assert.StartsWith("HTTP/1.1 426 ", wrongVersion);
        Assert.Contains("Sec-WebSocket-Version: 13", wrongVersion);
        string badKey = await SendRawAsync(router.Url!, Encoding.ASCII.GetBytes(UpgradeRequest(router.Url!, key: "not-a-key")));
        Assert.StartsWith("HTTP/1.1 400 ", badKey);
        await JoinsAsync(router);
    }

    [Fact]
    public async Task A_peer_that_connects_and_sends_half_a_request_is_cut_off_after_the_handshake_bound()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, HandshakeTimeout = TimeSpan.FromMilliseconds(500) });
        using var client = new TcpClient();
        await client.ConnectAsync(router.Url!.Host, router.Url!.Port).WaitAsync(Bound);
        var stream = client.GetStream();
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: h\r\n"u8.ToArray()); // and never the blank line
        var closed = DrainUntilClosedAsync(stream);
        Assert.True(await Task.WhenAny(closed, Task.Delay(Bound)) == closed, "the router kept a silent connection past its handshake bound");
        await JoinsAsync(router);
    }

    /// <summary>A valid CALL (see <see cref="A_valid_call_frame_is_answered_with_a_result"/>): the frames below break only the framing.</summary>
    private static byte[] Call => """[48, 1, {}, "wamp.session.count"]"""u8.ToArray();

    public static TheoryData<string, byte[]> BrokenFrames() => new()
    {
        { "an unmasked client frame", Frame(0x81, Call, masked: false) },
        { "a reserved bit", Frame(0x81 | 0x40, Call) },
        { "a reserved data opcode", Frame(0x83, Call) },
        { "a reserved control opcode", Frame(0x8B, []) },
        { "a fragmented ping", Frame(0x09, []) },
        { "a ping longer than 125 bytes", Frame(0x89, new byte[126]) },
        { "a continuation with nothing to continue", Frame(0x80, Call) },
        { "a binary message on wamp.2.json", Frame(0x82, Call) },
        { "a new message inside a fragmented one", [.. Frame(0x01, Call[..10]), .. Frame(0x81, Call)] },
    };

    [Theory]
    [MemberData(nameof(BrokenFrames))]
    public async Task A_frame_that_breaks_the_websocket_protocol_ends_that_session_with_an_abort_and_no_other(string what, byte[] frame)
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        await using var bystander = await WampSession.ConnectAsync(router.Url!, "realm1");
        var (client, stream) = await JoinAsync(router.Url!);
        using (client)
        {
            await stream.WriteAsync(frame);
            var texts = await ReadTextFramesUntilEndAsync(stream);
            Assert.True(texts.Any(t => t.StartsWith("[3,", StringComparison.Ordinal)), $"{what}: no ABORT before the close, got [{string.Join(", ", texts)}]");
        }
        // The other session is untouched.
        var count = await bystander.CallAsync("wamp.session.count").WaitAsync(Bound);
        Assert.Equal(1, count.Payload.ArgumentCount);
    }

    [Fact]
    public async Task A_valid_call_frame_is_answered_with_a_result()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        var (client, stream) = await JoinAsync(router.Url!);
        using (client)
        {
            await stream.WriteAsync(Frame(0x81, Call));
            var (opcode, result) = await ReadFrameAsync(stream);
            Assert.Equal(0x1, opcode);
            Assert.StartsWith("[50,1,", Encoding.UTF8.GetString(result).Replace(" ", ""));
        }
    }

    [Fact]
    public async Task A_hello_in_fragments_with_a_ping_between_them_is_answered_with_a_pong_and_a_welcome()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        var (client, stream) = await UpgradeAsync(router.Url!);
        using (client)
        {
            byte[] hello = """[1, "realm1", {"roles": {"caller": {}}}]"""u8.ToArray();
            byte[] frames = [.. Frame(0x01, hello[..5]), .. Frame(0x89, "hi"u8.ToArray()), .. Frame(0x00, hello[5..12]), .. Frame(0x80, hello[12..])];
            await stream.WriteAsync(frames);
            var (pongOpcode, pong) = await ReadFrameAsync(stream);
            Assert.Equal(0xA, pongOpcode);
            Assert.Equal("hi", Encoding.ASCII.GetString(pong));
            var (opcode, welcome) = await ReadFrameAsync(stream);
            Assert.Equal(0x1, opcode);
            Assert.StartsWith("[2,", Encoding.UTF8.GetString(welcome));
        }
    }

    private static async Task JoinsAsync(WampRouter router)
    {
        await using var session = await WampSession.ConnectAsync(router.Url!, "realm1").WaitAsync(Bound);
        Assert.True(session.SessionId > 0);
    }

    /// <summary>Sends <paramref name="request"/> and returns what the router answers until it closes.</summary>
    private static async Task<string> SendRawAsync(Uri url, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(url.Host, url.Port).WaitAsync(Bound);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request);
        }
        catch (IOException)
        {
            // The router may answer and close before it has read all of an over-long request.
        }
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer).AsTask().WaitAsync(Bound)) > 0) answer.Write(buffer, 0, n);
        }
        catch (IOException)
        {
            // reset after the answer
        }
        return Encoding.ASCII.GetString(answer.ToArray());
    }

    private static async Task<List<string>> ReadTextFramesUntilEndAsync(NetworkStream stream)
    {
        var texts = new List<string>();
        try
        {
            while (true)
            {
                var (opcode, payload) = await ReadFrameAsync(stream);
                if (opcode == 0x1) texts.Add(Encoding.UTF8.GetString(payload));
                if (opcode == 0x8) break;
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            // closed
        }
        return texts;
    }
}
