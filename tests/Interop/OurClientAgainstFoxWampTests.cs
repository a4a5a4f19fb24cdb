using System.Threading.Channels;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>Our client against a third-party router (fox-wamp) and an Autobahn|JS callee and publisher.</summary>
public sealed class OurClientAgainstFoxWampTests : IAsyncLifetime
{
    private PeerProcess _router = null!;
    private PeerProcess _callee = null!;
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        (_router, _url) = await Peers.StartFoxWampAsync();
        _callee = await Peers.StartJsCalleeAsync(_url, publishIntervalMs: 50);
    }

    public async Task DisposeAsync()
    {
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    [Fact]
    public async Task A_call_returns_the_conference()
    {
        await using var session = await WampSession.ConnectAsync(_url, "realm1");
        var result = await session.CallAsync("com.example.conferences.get", WampPayload.FromArgs(123)).WaitAsync(Peers.Bound);
        var conference = result.Payload.Arguments[0];
        Assert.Equal("deSymfony", conference.GetProperty("name").GetString());
        Assert.Equal("Madrid", conference.GetProperty("where").GetString());
    }

    [Fact]
    public async Task A_callee_error_rewritten_by_fox_wamp_surfaces_with_the_callees_uri()
    {
        await using var session = await WampSession.ConnectAsync(_url, "realm1");
        var e = await Assert.ThrowsAsync<WampException>(() => session.CallAsync("com.example.conferences.get", WampPayload.FromArgs(999)).WaitAsync(Peers.Bound));
        Assert.Equal("com.example.error.not_found", e.Uri);
        Assert.Contains("wamp.error.callee_failure", e.Message); // fox-wamp dropped the arguments, and the message says so
    }

    [Fact]
    public async Task Results_with_null_kwargs_are_read_tolerantly()
    {
        await using var session = await WampSession.ConnectAsync(_url, "realm1");
        var plain = await session.CallAsync("com.example.echo", WampPayload.FromArgs(1, "two")).WaitAsync(Peers.Bound);
        Assert.Equal("[1,\"two\"]", System.Text.Encoding.UTF8.GetString(plain.Payload.ArgumentsJson.Span));
        Assert.False(plain.Payload.HasKeywordArguments);
        var withKwargs = await session.CallAsync("com.example.echo", WampPayload.FromJson("[1]", """{"k":"v"}""")).WaitAsync(Peers.Bound);
        Assert.Equal("v", withKwargs.Payload.KeywordArguments.GetProperty("k").GetString());
    }

    [Fact]
    public async Task Progressive_results_stream_through_fox_wamp()
    {
        await using var session = await WampSession.ConnectAsync(_url, "realm1");
        var seen = new List<string>();
        using var bound = new CancellationTokenSource(Peers.Bound);
        await foreach (var r in session.StreamAsync("com.example.import", WampPayload.FromArgs(3)).WithCancellation(bound.Token))
            seen.Add((r.IsProgress ? "p" : "f") + r.Payload.Arguments[0]);
        Assert.Equal(["p1", "p2", "p3", "fimported 3"], seen);
    }

    [Fact]
    public async Task Events_from_a_js_publisher_and_from_our_publisher_arrive()
    {
        await using var subscriber = await WampSession.ConnectAsync(_url, "realm1");
        await using var publisher = await WampSession.ConnectAsync(_url, "realm1");
        var ticks = Channel.CreateUnbounded<WampEvent>();
        var bare = Channel.CreateUnbounded<WampEvent>();
        var ours = Channel.CreateUnbounded<WampEvent>();
        await using var s1 = await subscriber.SubscribeAsync("com.example.ticks", (e, ct) => { ticks.Writer.TryWrite(e); return default; });
        await using var s2 = await subscriber.SubscribeAsync("com.example.bare_ticks", (e, ct) => { bare.Writer.TryWrite(e); return default; });
        await using var s3 = await subscriber.SubscribeAsync("com.example.chat", (e, ct) => { ours.Writer.TryWrite(e); return default; });

        var tick = await ticks.Reader.ReadAsync().AsTask().WaitAsync(Peers.Bound);
        Assert.Equal(tick.Payload.Arguments[0].GetInt32(), tick.Payload.KeywordArguments.GetProperty("seq").GetInt32());
        var bareTick = await bare.Reader.ReadAsync().AsTask().WaitAsync(Peers.Bound); // fox-wamp sends its kwargs as null
        Assert.False(bareTick.Payload.HasKeywordArguments);

        long publication = await publisher.PublishAsync("com.example.chat", WampPayload.FromArgs("hello"), new WampPublishOptions { Acknowledge = true });
        var mine = await ours.Reader.ReadAsync().AsTask().WaitAsync(Peers.Bound);
        Assert.Equal("hello", mine.Payload.Arguments[0].GetString());
        Assert.Equal(publication, mine.PublicationId);
    }

    [Fact]
    public async Task Leaving_accepts_fox_wamps_nonstandard_goodbye_reply()
    {
        var session = await WampSession.ConnectAsync(_url, "realm1");
        await session.DisposeAsync().AsTask().WaitAsync(Peers.Bound);
        Assert.Equal("wamp.close.close_realm", session.CloseReason);
    }
}
