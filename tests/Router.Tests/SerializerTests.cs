using System.Text.Json;
using WampContracts.Protocol;
using WampContracts.Serialization;

namespace WampContracts.Router.Tests;

/// <summary>
/// Sessions with different serializers and transports on one router: the router translates, and what crosses it
/// (binary values included) arrives as it was sent.
/// </summary>
public class SerializerTests
{
    private static readonly TimeSpan Bound = SocketClient.Bound;

    private static WampSessionOptions With(params WampSerializer[] serializers) => new() { Serializers = serializers };

    private static readonly byte[] Bytes = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, (byte)'\\', (byte)'"', 0x00];

    private static async Task<WampRouter> StartAsync(WampRouterOptions? options = null) =>
        await WampRouter.StartAsync(new WampRouterOptions
        {
            RawSocketPort = 0,
            Serializers = options?.Serializers,
            MaxMessageSize = options?.MaxMessageSize ?? new WampRouterOptions().MaxMessageSize,
            TimeProvider = options?.TimeProvider ?? TimeProvider.System,
            HandshakeTimeout = options?.HandshakeTimeout ?? TimeSpan.FromSeconds(10),
        });

    public static TheoryData<string, string, string, string> Pairs => new()
    {
        // caller serializer, caller transport, callee serializer, callee transport
        { "json", "ws", "msgpack", "ws" },
        { "msgpack", "ws", "json", "ws" },
        { "cbor", "ws", "msgpack", "tcp" },
        { "json", "tcp", "cbor", "tcp" },
        { "msgpack", "tcp", "msgpack", "tcp" },
    };

    private static WampSerializer Of(string name) => WampSerializer.All.Single(s => s.Name == name);

    private static Task<WampSession> ConnectAsync(WampRouter router, string serializer, string transport) =>
        WampSession.ConnectAsync(transport == "tcp" ? router.RawSocketUrl! : router.Url!, "realm1", With(Of(serializer))).WaitAsync(Bound);

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task A_call_between_serializers_gets_the_same_result_binary_arguments_byte_for_byte(string callerSerializer, string callerTransport, string calleeSerializer, string calleeTransport)
    {
        await using var router = await StartAsync();
        await using var callee = await ConnectAsync(router, calleeSerializer, calleeTransport);
        await using var caller = await ConnectAsync(router, callerSerializer, callerTransport);
        byte[]? received = null;
        string? receivedKw = null;
        await callee.RegisterAsync("com.example.echo", (invocation, _) =>
        {
            received = invocation.Payload.GetArgument<byte[]>(0);
            receivedKw = invocation.Payload.KeywordArguments.GetRawText();
            return ValueTask.FromResult(invocation.Payload);
        }).WaitAsync(Bound);

        var payload = WampPayload.FromArgs([Bytes, "text", 42, -1.5, null, true, new[] { 1, 2 }], new Dictionary<string, object?> { ["nested"] = new Dictionary<string, object?> { ["b"] = new byte[] { 9, 8 } } });
        var result = await caller.CallAsync("com.example.echo", payload).WaitAsync(Bound);

        Assert.Equal(Bytes, received);
        Assert.Equal(Bytes, result.Payload.GetArgument<byte[]>(0));
        Assert.Equal("text", result.Payload.GetArgument<string>(1));
        Assert.Equal(42, result.Payload.GetArgument<int>(2));
        Assert.Equal(-1.5, result.Payload.GetArgument<double>(3));
        Assert.True(JsonElement.DeepEquals(payload.Arguments, result.Payload.Arguments), result.Payload.ToString());
        Assert.True(JsonElement.DeepEquals(payload.KeywordArguments, result.Payload.KeywordArguments), result.Payload.ToString());
        Assert.Equal("""{"nested":{"b":"\u0000CQg="}}""", receivedKw);
    }

    [Fact]
    public async Task A_CBOR_publisher_reaches_JSON_and_MessagePack_subscribers_with_binary_payloads_byte_for_byte()
    {
        await using var router = await StartAsync();
        await using var json = await ConnectAsync(router, "json", "ws");
        await using var msgpack = await ConnectAsync(router, "msgpack", "tcp");
        await using var msgpackWs = await ConnectAsync(router, "msgpack", "ws");
        await using var publisher = await ConnectAsync(router, "cbor", "tcp");
        var events = new[] { json, msgpack, msgpackWs }.Select(async s =>
        {
            var got = new TaskCompletionSource<WampEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            await s.SubscribeAsync("com.example.blob", (e, _) => { got.TrySetResult(e); return ValueTask.CompletedTask; }).WaitAsync(Bound);
            return got;
        }).ToArray();
        var waits = await Task.WhenAll(events);

        var big = new byte[100_000];
        new Random(7).NextBytes(big);
        await publisher.PublishAsync("com.example.blob", WampPayload.FromArgs([Bytes, big, "ü"]), new WampPublishOptions { Acknowledge = true }).AsTask().WaitAsync(Bound);

        foreach (var wait in waits)
        {
            var e = await wait.Task.WaitAsync(Bound);
            Assert.Equal(Bytes, e.Payload.GetArgument<byte[]>(0));
            Assert.Equal(big, e.Payload.GetArgument<byte[]>(1));
            Assert.Equal("ü", e.Payload.GetArgument<string>(2));
        }
    }

    [Fact]
    public async Task ReadOnlyMemory_of_bytes_travels_as_binary_like_byte_arrays()
    {
        await using var router = await StartAsync();
        await using var callee = await ConnectAsync(router, "cbor", "ws");
        await using var caller = await ConnectAsync(router, "msgpack", "tcp");
        await callee.RegisterAsync("com.example.len", (invocation, _) =>
            ValueTask.FromResult(WampPayload.FromArgs(invocation.Payload.GetArgument<ReadOnlyMemory<byte>>(0).Length))).WaitAsync(Bound);
        var result = await caller.CallAsync("com.example.len", WampPayload.FromArgs((ReadOnlyMemory<byte>)Bytes)).WaitAsync(Bound);
        Assert.Equal(Bytes.Length, result.Payload.GetArgument<int>(0));
        Assert.Equal("\0" + Convert.ToBase64String(Bytes), WampPayload.FromArgs((ReadOnlyMemory<byte>)Bytes).GetArgument<string>(0));
    }

    [Fact]
    public async Task The_client_offers_its_serializers_in_order_and_the_router_takes_the_first_it_speaks()
    {
        await using var all = await StartAsync();
        await using var jsonOnly = await StartAsync(new WampRouterOptions { Serializers = [WampSerializer.Json] });

        var transport = await Transport.WebSocketTransport.ConnectAsync(all.Url!, Bound, 1 << 20, null, [WampSerializer.Cbor, WampSerializer.Json], CancellationToken.None);
        Assert.Same(WampSerializer.Cbor, transport.Serializer);
        await transport.DisposeAsync();

        transport = await Transport.WebSocketTransport.ConnectAsync(jsonOnly.Url!, Bound, 1 << 20, null, [WampSerializer.MessagePack, WampSerializer.Json], CancellationToken.None);
        Assert.Same(WampSerializer.Json, transport.Serializer);
        await transport.DisposeAsync();

        var refused = await Assert.ThrowsAsync<WampConnectionException>(() =>
            Transport.WebSocketTransport.ConnectAsync(jsonOnly.Url!, Bound, 1 << 20, null, [WampSerializer.MessagePack], CancellationToken.None));
        Assert.Contains("400", refused.Message);

        // RawSocket asks for one serializer per handshake: refused as unsupported, the next one is tried.
        var raw = await Transport.RawSocketTransport.ConnectAsync("127.0.0.1", jsonOnly.RawSocketUrl!.Port, Bound, 1 << 20, [WampSerializer.Cbor, WampSerializer.Json], CancellationToken.None);
        Assert.Same(WampSerializer.Json, raw.Serializer);
        await raw.DisposeAsync();
        var none = await Assert.ThrowsAsync<WampConnectionException>(() =>
            Transport.RawSocketTransport.ConnectAsync("127.0.0.1", jsonOnly.RawSocketUrl!.Port, Bound, 1 << 20, [WampSerializer.Cbor], CancellationToken.None));
        Assert.Contains("supports none of the serializers", none.Message);
    }

    [Fact]
    public async Task The_RawSocket_handshake_announces_the_routers_limit_and_refuses_what_it_does_not_speak()
    {
        await using var router = await StartAsync(new WampRouterOptions { MaxMessageSize = 100_000 });
        var (ok, reply) = await RawSocketClient.HandshakeAsync(router.RawSocketUrl!, WampSerializer.MessagePack);
        // 2^(9+8) = 128 KiB is the smallest length that covers 100,000 bytes.
        Assert.Equal(new byte[] { 0x7F, 0x82, 0, 0 }, reply);
        await ok.DisposeAsync();

        using (var socket = await RawSocketClient.OpenAsync(router.RawSocketUrl!))
        {
            await socket.SendAsync(new byte[] { 0x7F, 0xF4, 0, 0 }); // UBJSON: not spoken
            Assert.Equal(new byte[] { 0x7F, 0x10, 0, 0 }, await RawSocketClient.ReadExactlyAsync(socket, 4));
            Assert.Null(await RawSocketClient.ReadExactlyAsync(socket, 1));
        }
        using (var socket = await RawSocketClient.OpenAsync(router.RawSocketUrl!))
        {
            await socket.SendAsync(new byte[] { 0x7F, 0xF1, 0, 1 }); // reserved bytes set
            Assert.Equal(new byte[] { 0x7F, 0x30, 0, 0 }, await RawSocketClient.ReadExactlyAsync(socket, 4));
        }
        using (var socket = await RawSocketClient.OpenAsync(router.RawSocketUrl!))
        {
            await socket.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray()); // not RawSocket: closed without an answer
            Assert.Null(await RawSocketClient.ReadExactlyAsync(socket, 1));
        }
    }

    [Fact]
    public async Task A_RawSocket_connection_without_a_handshake_is_closed_after_the_handshake_timeout()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var router = await StartAsync(new WampRouterOptions { TimeProvider = clock, HandshakeTimeout = TimeSpan.FromSeconds(5) });
        using var socket = await RawSocketClient.OpenAsync(router.RawSocketUrl!);
        await socket.SendAsync(new byte[] { 0x7F }); // one byte of four
        var closed = RawSocketClient.ReadExactlyAsync(socket, 1);
        using var stop = new CancellationTokenSource(Bound);
        while (!closed.IsCompleted && !stop.IsCancellationRequested)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(closed, Task.Delay(10, stop.Token));
        }
        Assert.Null(await closed);
    }

    [Fact]
    public async Task A_PING_is_answered_with_a_PONG_carrying_its_payload()
    {
        await using var router = await StartAsync();
        await using var client = await RawSocketClient.JoinAsync(router.RawSocketUrl!, WampSerializer.Json);
        await client.SendRawAsync(RawSocketClient.Frame(1, "are you there?"u8));
        var pong = await client.ReceiveFrameAsync();
        Assert.Equal(2, pong!.Value.Type);
        Assert.Equal("are you there?"u8.ToArray(), pong.Value.Payload);
        // A PONG nobody asked for is read and dropped; the session goes on.
        await client.SendRawAsync(RawSocketClient.Frame(2, "x"u8));
        await client.SendAsync("""[32, 1, {}, "com.example.t"]""");
        Assert.Equal(WampMessageType.Subscribed, (await client.ReceiveAsync())!.Value.Type);
    }

    public static TheoryData<string, string> BrokenFrames => new()
    {
        { "reserved bits", "10 00 00 01 01" },
        { "unknown frame type", "05 00 00 01 01" },
        { "length past 16 MiB", "08 00 00 01 01" },
        { "malformed MessagePack", "00 00 00 02 c1 c1" },
        { "MessagePack with an extension", "00 00 00 03 91 d4 01" },
    };

    [Theory]
    [MemberData(nameof(BrokenFrames))]
    public async Task A_broken_RawSocket_frame_gets_an_abort_and_a_close_and_the_router_serves_on(string what, string hex)
    {
        await using var router = await StartAsync();
        await using var client = await RawSocketClient.JoinAsync(router.RawSocketUrl!, WampSerializer.MessagePack);
        await client.SendRawAsync(Convert.FromHexString(hex.Replace(" ", "")));
        var messages = await client.DrainUntilClosedAsync();
        var abort = Assert.Single(messages);
        Assert.Equal(WampMessageType.Abort, abort.Type);
        Assert.True(abort.Uri == WampUris.ProtocolViolation, what);

        await using var next = await RawSocketClient.JoinAsync(router.RawSocketUrl!, WampSerializer.MessagePack);
    }

    [Fact]
    public async Task A_frame_cut_short_or_a_lying_length_prefix_ends_only_that_connection()
    {
        await using var router = await StartAsync(new WampRouterOptions { MaxMessageSize = 4096 });
        await using (var client = await RawSocketClient.JoinAsync(router.RawSocketUrl!, WampSerializer.Cbor))
        {
            // 16 MiB - 1 announced, 3 bytes sent, then the connection ends.
            await client.SendRawAsync([0x00, 0xff, 0xff, 0xff, 1, 2, 3]);
            client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            Assert.Empty(await client.DrainUntilClosedAsync());
        }
        await using (var client = await RawSocketClient.JoinAsync(router.RawSocketUrl!, WampSerializer.Cbor))
        {
            await client.SendRawAsync([0x00, 0x00, 0x01]); // half a header
            client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            Assert.Empty(await client.DrainUntilClosedAsync());
        }
        await using var next = await RawSocketClient.JoinAsync(router.RawSocketUrl!, WampSerializer.Cbor);
        await next.SendAsync("""[32, 1, {}, "com.example.t"]""");
        Assert.Equal(WampMessageType.Subscribed, (await next.ReceiveAsync())!.Value.Type);
        Assert.Equal(0, router.SessionCount - 1);
    }

    [Theory]
    [InlineData("msgpack")]
    [InlineData("cbor")]
    public async Task An_oversized_binary_request_is_refused_by_its_request_id_and_the_session_goes_on(string serializer)
    {
        await using var router = await StartAsync(new WampRouterOptions { MaxMessageSize = 8192 });
        await using var client = await RawSocketClient.JoinAsync(router.RawSocketUrl!, Of(serializer));
        await client.SendAsync($$"""[48, 7, {}, "com.example.big", ["\u0000{{Convert.ToBase64String(new byte[20_000])}}"]]""");
        var error = (await client.ReceiveAsync())!.Value;
        Assert.Equal((WampMessageType.Error, 48L, 7L, WampUris.PayloadSizeExceeded), (error.Type, error.Id1, error.Id2, error.Uri));
        await client.SendAsync("""[32, 8, {}, "com.example.t"]""");
        Assert.Equal(WampMessageType.Subscribed, (await client.ReceiveAsync())!.Value.Type);
    }

    [Fact]
    public async Task A_text_message_on_a_binary_subprotocol_is_a_protocol_violation()
    {
        await using var router = await StartAsync();
        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.AddSubProtocol("wamp.2.msgpack");
        await socket.ConnectAsync(router.Url!, CancellationToken.None).WaitAsync(Bound);
        await socket.SendAsync("""[1, "realm1", {"roles": {"caller": {}}}]"""u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[4096];
        var r = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Binary, r.MessageType);
        var abort = WampMessageParser.Parse(WampSerializer.MessagePack.ToJson(buffer.AsSpan(0, r.Count)));
        Assert.Equal((WampMessageType.Abort, WampUris.ProtocolViolation), (abort.Type, abort.Uri));
        Assert.Contains("text WebSocket message", abort.Dict.GetString("message"u8));
        socket.Dispose();
    }

    [Theory]
    [InlineData("msgpack")]
    [InlineData("cbor")]
    public async Task Between_peers_of_one_binary_serializer_the_payload_is_relayed_as_it_came(string name)
    {
        var serializer = Of(name);
        await using var router = await StartAsync();
        await using var callee = await RawSocketClient.JoinAsync(router.RawSocketUrl!, serializer);
        await using var caller = await RawSocketClient.JoinAsync(router.RawSocketUrl!, serializer);
        await using var jsonCallee = await SocketClient.JoinAsync(router.Url!);
        await callee.SendAsync("""[64, 1, {}, "com.example.raw"]""");
        Assert.Equal(WampMessageType.Registered, (await callee.ReceiveAsync())!.Value.Type);
        await jsonCallee.SendAsync("""[64, 1, {}, "com.example.raw_json"]""");
        await jsonCallee.ReceiveAsync(WampMessageType.Registered);

        // Payloads in encodings this library would not choose (a float32, lengths in wider forms than needed), so a
        // re-encoding would show: [1.5, "hi"], {"k": bytes 07}.
        byte[] payload = name == "msgpack"
            ? Convert.FromHexString("dc0002" + "ca3fc00000" + "d9026869" + "de0001" + "a16b" + "c40107")
            : Convert.FromHexString("9f" + "fa3fc00000" + "7f626869ff" + "ff" + "b90001" + "616b" + "5801" + "07");
        byte[] Call(string procedure) => [.. Head(serializer, $$"""[48, 9, {}, "{{procedure}}"]"""), .. payload];
        await caller.SendRawAsync(RawSocketClient.Frame(0, Call("com.example.raw")));
        var invocation = (await callee.ReceiveFrameAsync())!.Value.Payload;
        Assert.Equal(payload, invocation[^payload.Length..]);
        var parsed = WampMessageParser.Parse(serializer.ToJson(invocation));
        Assert.Equal(WampMessageType.Invocation, parsed.Type);
        Assert.Equal("""[1.5,"hi"]""", System.Text.Encoding.UTF8.GetString(parsed.Payload.ArgumentsJson.Span));

        // The answer comes back the same way; the same CALL to a JSON callee is translated, equal value for value.
        await callee.SendRawAsync(RawSocketClient.Frame(0, [.. Head(serializer, $$"""[70, {{parsed.Id1}}, {}]"""), .. payload]));
        var result = (await caller.ReceiveFrameAsync())!.Value.Payload;
        Assert.Equal(payload, result[^payload.Length..]);
        await caller.SendRawAsync(RawSocketClient.Frame(0, Call("com.example.raw_json")));
        var translated = await jsonCallee.ReceiveAsync(WampMessageType.Invocation);
        Assert.Equal("""[1.5,"hi"]""", System.Text.Encoding.UTF8.GetString(translated.Payload.ArgumentsJson.Span));
        Assert.Equal("""{"k":"\u0000Bw=="}""", System.Text.Encoding.UTF8.GetString(translated.Payload.KeywordArgumentsJson.Span));
    }

    /// <summary>A message's head in <paramref name="serializer"/>: the array header counting two more elements (the payload), then the head's elements.</summary>
    private static byte[] Head(WampSerializer serializer, string json)
    {
        byte[] buffer = [];
        int n = serializer.FromJson(System.Text.Encoding.UTF8.GetBytes(json.TrimEnd(']') + ", 0, 0]"), ref buffer);
        // Drop the two placeholder zeros (one byte each in both formats).
        return buffer.AsSpan(0, n - 2).ToArray();
    }
}
