using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>
/// The W3C trace context crosses a third-party router (fox-wamp, which drops custom options) in the payload carrier:
/// the caller's and the callee's spans, and the publisher's and the subscriber's, share one trace.
/// </summary>
public sealed class TraceContextThroughFoxWampTests : IAsyncLifetime
{
    private static readonly ActivitySource TestSource = new("WampContracts.Interop.Tests.TraceContext");
    private readonly List<Activity> _spans = [];
    private readonly TaskCompletionSource<Activity> _consumerEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TracerProvider _tracing = null!;
    private PeerProcess _fox = null!;
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        _tracing = Sdk.CreateTracerProviderBuilder().AddSource(WampTelemetry.Name, TestSource.Name)
            .AddProcessor(new WhenEnded(a => { if (a.Kind == ActivityKind.Consumer && a.DisplayName == "com.example.traced") _consumerEnded.TrySetResult(a); }))
            .AddInMemoryExporter(_spans).Build()!;
        (_fox, _url) = await Peers.StartFoxWampAsync();
    }

    public async Task DisposeAsync()
    {
        await _fox.DisposeAsync();
        _tracing.Dispose();
    }

    private Activity[] SpansOf(ActivityTraceId trace)
    {
        _tracing.ForceFlush();
        lock (_spans) return _spans.Where(s => s.TraceId == trace).ToArray();
    }

    private sealed class WhenEnded(Action<Activity> ended) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => ended(data);
    }

    private sealed class Orders : IOrders
    {
        public Task<string> Place(string item, string? requestId = null) => Task.FromResult($"{item} placed");
    }

    [Fact]
    public async Task A_typed_calls_trace_id_reaches_the_callee_through_fox_wamp()
    {
        var options = new WampSessionOptions { MetadataInPayload = true };
        await using var callee = await WampSession.ConnectAsync(_url, "realm1", options);
        await using var caller = await WampSession.ConnectAsync(_url, "realm1", options);
        await using var registration = await callee.RegisterAsync<IOrders>(new Orders());

        using (var test = TestSource.StartActivity("test")!)
        {
            Assert.Equal("book placed", await caller.GetProxy<IOrders>().Place("book").WaitAsync(Peers.Bound));
            var spans = SpansOf(test.TraceId);
            var client = Assert.Single(spans, s => s.Kind == ActivityKind.Client);
            var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
            Assert.Equal("WampContracts.Interop.Tests.IOrders/Place", client.DisplayName);
            Assert.Equal("WampContracts.Interop.Tests.IOrders/Place", server.DisplayName);
            Assert.Equal(test.SpanId, client.ParentSpanId);
            Assert.Equal(client.SpanId, server.ParentSpanId);
            Assert.Equal("wamp", server.GetTagItem("rpc.system"));
        }
    }

    [Fact]
    public async Task A_publications_trace_id_reaches_the_subscriber_through_fox_wamp()
    {
        var options = new WampSessionOptions { MetadataInPayload = true };
        await using var subscriber = await WampSession.ConnectAsync(_url, "realm1", options);
        await using var publisher = await WampSession.ConnectAsync(_url, "realm1", options);
        var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await subscriber.SubscribeAsync("com.example.traced", (e, ct) =>
        {
            received.TrySetResult(e.Payload.GetArgument<int>(0));
            return ValueTask.CompletedTask;
        });

        using var test = TestSource.StartActivity("test")!;
        await publisher.PublishAsync("com.example.traced", WampPayload.FromArgs(7), new WampPublishOptions { Acknowledge = true }).AsTask().WaitAsync(Peers.Bound);
        Assert.Equal(7, await received.Task.WaitAsync(Peers.Bound));
        // The consumer span ends after its handler returns: wait for its end.
        var consumer = await _consumerEnded.Task.WaitAsync(Peers.Bound);
        Assert.Equal(test.TraceId, consumer.TraceId);
        var producer = Assert.Single(SpansOf(test.TraceId), s => s.Kind == ActivityKind.Producer);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Equal("com.example.traced", consumer.GetTagItem("wamp.topic"));
    }
}
