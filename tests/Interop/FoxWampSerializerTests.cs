using WampContracts.Serialization;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>
/// Our client's serializers against fox-wamp 0.7.28, whose WAMP gateway speaks <c>wamp.2.json</c> over WebSocket only
/// (no MessagePack, no CBOR, no RawSocket: its msgpack is for its own non-WAMP protocol): a client offering binary
/// serializers first falls back to JSON, one offering none of JSON is refused with a clear error.
/// </summary>
public sealed class FoxWampSerializerTests : IAsyncLifetime
{
    private PeerProcess _router = null!;
    private PeerProcess _callee = null!;
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        (_router, _url) = await Peers.StartFoxWampAsync();
        _callee = await Peers.StartJsCalleeAsync(_url);
    }

    public async Task DisposeAsync()
    {
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    [Fact]
    public async Task Offering_MessagePack_and_CBOR_before_JSON_falls_back_to_JSON_and_calls_work()
    {
        var transport = await Transport.WebSocketTransport.ConnectAsync(_url, Peers.Bound, 1 << 20, null,
            [WampSerializer.MessagePack, WampSerializer.Cbor, WampSerializer.Json], CancellationToken.None);
        Assert.Same(WampSerializer.Json, transport.Serializer);
        await using var session = await WampSession.JoinAsync(transport, "realm1").WaitAsync(Peers.Bound);
        var result = await session.CallAsync("com.example.conferences.get", WampPayload.FromArgs(123)).WaitAsync(Peers.Bound);
        Assert.Equal("deSymfony", result.Payload.Arguments[0].GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("msgpack")]
    [InlineData("cbor")]
    public async Task Offering_only_a_binary_serializer_is_refused_with_a_clear_error(string name)
    {
        var serializer = WampSerializer.All.Single(s => s.Name == name);
        var e = await Assert.ThrowsAsync<WampConnectionException>(() =>
            WampSession.ConnectAsync(_url, "realm1", new WampSessionOptions { Serializers = [serializer] }).WaitAsync(Peers.Bound));
        Assert.Contains(_url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }
}
