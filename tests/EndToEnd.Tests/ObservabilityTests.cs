using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using WampContracts.Router;

namespace WampContracts.EndToEnd.Tests;

/// <summary>A contract whose callee calls another contract inside its handler: the second hop of a trace.</summary>
[WampService("com.example.gateway")]
public interface IGateway
{
    Task<Conference> Lookup(int id, CancellationToken cancellationToken = default);

    Task Crash(CancellationToken cancellationToken = default);

    [NoSideEffects]
    Task<int> Stall(CancellationToken cancellationToken = default);

    Task<CallerInfo> WhoAmI(CancellationToken cancellationToken = default);
}

/// <summary>What a callee learned about its invocation from <see cref="WampInvocationContext.Current"/>.</summary>
public sealed record CallerInfo(string Procedure, long? Session, string? AuthId, string? AuthRole, string? Tenant, string? TenantItem,
    int Attempt, double? RemainingMs, string? Service, string? Method);

public sealed class Gateway(IConferences conferences) : IGateway
{
    public int Stalled;

    public Task<Conference> Lookup(int id, CancellationToken cancellationToken = default) => conferences.Get(id, cancellationToken);

    public Task Crash(CancellationToken cancellationToken = default) => throw new InvalidOperationException("could not read '/srv/gateway/secrets.json'");

    public async Task<int> Stall(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Stalled);
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public Task<CallerInfo> WhoAmI(CancellationToken cancellationToken = default)
    {
        var invocation = WampInvocationContext.Current ?? throw new InvalidOperationException("no invocation context");
        return Task.FromResult(new CallerInfo(invocation.Procedure, invocation.Caller, invocation.CallerAuthId, invocation.CallerAuthRole,
            invocation.GetMetadata("x_tenant"), invocation.Items.TryGetValue("tenant", out var item) ? (string?)item : null,
            invocation.Attempt, invocation.RemainingTime?.TotalMilliseconds, invocation.Method?.Service, invocation.Method?.Name));
    }
}

/// <summary>
/// Traces, metrics and logs through our router over real WebSockets, recorded with OpenTelemetry's in-memory exporters.
/// Other tests run in parallel and are traced too while these listen: every assertion picks its own spans and points.
/// </summary>
public sealed class ObservabilityTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private const string GatewayService = "WampContracts.EndToEnd.Tests.IGateway";
    private const string ConferencesService = "WampContracts.EndToEnd.Tests.IConferences";

    private static readonly ActivitySource TestSource = new("WampContracts.EndToEnd.Tests.Observability");
    // Spans end on other threads, and sessions of tests running alongside report to this listener too: the exporter's
    // adds take the same lock as the reads below.
    private readonly LockedList<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];
    private readonly List<LogRecord> _logs = [];
    private TracerProvider _tracing = null!;
    private MeterProvider _meters = null!;
    private ILoggerFactory _loggerFactory = null!;
    private WampRouter _router = null!;
    private WampSession _caller = null!, _gatewaySession = null!, _conferencesSession = null!;
    private Gateway _gateway = null!;
    private readonly List<IAsyncDisposable> _registrations = [];

    public async Task InitializeAsync()
    {
        _tracing = Sdk.CreateTracerProviderBuilder().AddSource(WampTelemetry.Name, TestSource.Name).AddInMemoryExporter(_spans).Build()!;
        _meters = Sdk.CreateMeterProviderBuilder().AddMeter(WampTelemetry.Name).AddInMemoryExporter(_metrics).Build()!;
        _loggerFactory = LoggerFactory.Create(b => b.AddOpenTelemetry(o => o.AddInMemoryExporter(_logs)));
        _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        _caller = await WampSession.ConnectAsync(_router.Url!, "realm1");
        _gatewaySession = await WampSession.ConnectAsync(_router.Url!, "realm1", new WampSessionOptions { LoggerFactory = _loggerFactory });
        _conferencesSession = await WampSession.ConnectAsync(_router.Url!, "realm1");
        _gateway = new Gateway(_gatewaySession.GetProxy<IConferences>());
        _registrations.Add(await _gatewaySession.RegisterAsync<IGateway>(_gateway));
        _registrations.Add(await _conferencesSession.RegisterAsync<IConferences>(new ConferenceService()));
    }

    public async Task DisposeAsync()
    {
        foreach (var r in _registrations) await r.DisposeAsync();
        await _caller.DisposeAsync();
        await _gatewaySession.DisposeAsync();
        await _conferencesSession.DisposeAsync();
        await _router.DisposeAsync();
        _tracing.Dispose();
        _meters.Dispose();
        _loggerFactory.Dispose();
    }

    private Activity[] SpansOf(ActivityTraceId trace)
    {
        lock (_spans) return _spans.Where(s => s.TraceId == trace).ToArray();
    }

    [Fact]
    public async Task Caller_callee_and_a_nested_call_share_one_trace_id()
    {
        Assert.Null(Activity.Current); // the caller's span starts the trace
        var conference = await _caller.GetProxy<IGateway>().Lookup(123).WaitAsync(Bound);
        Assert.Equal(new Conference("deSymfony", "Madrid", 123), conference);
        _tracing.ForceFlush();

        // Caller → gateway (its own session) → conferences (a third session): four spans, one trace, each the parent of the next.
        Activity callerSpan;
        lock (_spans) callerSpan = Assert.Single(_spans, s => s.Kind == ActivityKind.Client && s.DisplayName == GatewayService + "/Lookup");
        var spans = SpansOf(callerSpan.TraceId);
        var client = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.DisplayName == GatewayService + "/Lookup");
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.DisplayName == GatewayService + "/Lookup");
        var nestedClient = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.DisplayName == ConferencesService + "/Get");
        var nestedServer = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.DisplayName == ConferencesService + "/Get");
        Assert.Equal(client.SpanId, server.ParentSpanId);
        Assert.Equal(server.SpanId, nestedClient.ParentSpanId);
        Assert.Equal(nestedClient.SpanId, nestedServer.ParentSpanId);
        Assert.Equal(default, client.ParentSpanId);

        // OpenTelemetry RPC conventions: system, service and method from the contract.
        foreach (var span in new[] { client, server })
        {
            Assert.Equal("wamp", span.GetTagItem("rpc.system"));
            Assert.Equal(GatewayService, span.GetTagItem("rpc.service"));
            Assert.Equal("Lookup", span.GetTagItem("rpc.method"));
            Assert.Equal("com.example.gateway.lookup", span.GetTagItem("wamp.procedure"));
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        }
        Assert.Equal(1, client.GetTagItem("wamp.attempt"));

        // Durations recorded on both sides, and no call is left counted as active.
        _meters.ForceFlush();
        Assert.True(HistogramCount("rpc.client.call.duration", "Lookup") >= 1);
        Assert.True(HistogramCount("rpc.server.call.duration", "Lookup") >= 1);
        Assert.True(HistogramCount("rpc.client.call.duration", "Get") >= 1);
        Assert.Equal(0, Sum("wamp.client.active_calls", "Lookup"));
    }

    [Fact]
    public async Task A_throwing_handler_is_logged_with_its_procedure_and_its_span_records_the_error()
    {
        using var outer = TestSource.StartActivity("test");
        var e = await Assert.ThrowsAsync<WampException>(() => _caller.GetProxy<IGateway>().Crash().WaitAsync(Bound));
        Assert.Equal("wamp.error.runtime_error", e.Uri);
        // Off by default: nothing of the exception reaches the caller.
        Assert.Equal(0, e.Payload.ArgumentCount);
        Assert.DoesNotContain("secrets", e.Payload.ToString());

        // The callee logs the whole exception locally: event 1007, with the procedure and the request id.
        LogRecord record;
        lock (_logs) record = Assert.Single(_logs, l => l.EventId.Id == 1007);
        Assert.Equal(LogLevel.Error, record.LogLevel);
        var attributes = record.Attributes!.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal("com.example.gateway.crash", attributes["Procedure"]);
        Assert.True((long)attributes["RequestId"]! > 0);
        Assert.IsType<InvalidOperationException>(record.Exception);
        Assert.Contains("/srv/gateway/secrets.json", record.Exception!.Message);
        Assert.NotNull(record.Exception.StackTrace);

        // Both spans (children of the test's own activity) are marked failed with the error type.
        _tracing.ForceFlush();
        var spans = SpansOf(outer!.TraceId);
        var client = Assert.Single(spans, s => s.Kind == ActivityKind.Client);
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(outer.SpanId, client.ParentSpanId);
        Assert.Equal(client.SpanId, server.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, client.Status);
        Assert.Equal("wamp.error.runtime_error", client.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, server.Status);
        Assert.Equal(typeof(InvalidOperationException).FullName, server.GetTagItem("error.type"));
        // The log record was written inside the server span: logs and traces correlate.
        Assert.Equal((server.TraceId, server.SpanId), (record.TraceId, record.SpanId));
    }

    [Fact]
    public async Task Retries_timeouts_and_idempotent_replays_are_counted_and_each_attempt_has_its_span()
    {
        using var outer = TestSource.StartActivity("test");
        // A read that never answers in time: two attempts, each timing out, one retry between them.
        using (WampTimeout.Override(TimeSpan.FromMilliseconds(100)))
        using (WampRetry.Override(new WampRetryPolicy { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) }))
            await Assert.ThrowsAsync<WampTimeoutException>(() => _caller.GetProxy<IGateway>().Stall().WaitAsync(Bound));

        // The same idempotency key twice: the second call is answered from the store.
        var conferences = _caller.GetProxy<IConferences>();
        var first = await conferences.Register(123, new Attendee("Ada", "ada@example.com"), "observability-key").WaitAsync(Bound);
        var replay = await conferences.Register(123, new Attendee("Ada", "ada@example.com"), "observability-key").WaitAsync(Bound);
        Assert.Equal(first, replay);

        _meters.ForceFlush();
        Assert.Equal(2, Sum("wamp.client.timeouts", "Stall"));
        Assert.Equal(1, Sum("wamp.client.retries", "Stall"));
        Assert.Equal(1, Sum("wamp.server.idempotent_replays", "Register"));

        _tracing.ForceFlush();
        var attempts = SpansOf(outer!.TraceId).Where(s => s.Kind == ActivityKind.Client && s.DisplayName == GatewayService + "/Stall")
            .OrderBy(s => s.StartTimeUtc).ToArray();
        Assert.Equal(new[] { 1, 2 }, attempts.Select(s => (int)s.GetTagItem("wamp.attempt")!));
        Assert.All(attempts, s => Assert.Equal("timeout", s.GetTagItem("error.type")));
    }

    [Fact]
    public async Task A_stream_has_a_client_span_from_its_call_to_its_end_and_the_callee_a_child_span()
    {
        using var test = TestSource.StartActivity("test")!;
        var items = new List<int>();
        await foreach (var progress in _caller.GetProxy<IConferences>().Import("feed").WithCancellation(new CancellationTokenSource(Bound).Token))
        {
            items.Add(progress.Done);
            Assert.Same(test, Activity.Current); // the stream's span does not leak into the consumer's code
        }
        Assert.Equal([1, 2, 3], items);

        _tracing.ForceFlush();
        var spans = SpansOf(test.TraceId);
        var client = Assert.Single(spans, s => s.Kind == ActivityKind.Client);
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal((ConferencesService + "/Import", ConferencesService + "/Import"), (client.DisplayName, server.DisplayName));
        Assert.Equal(test.SpanId, client.ParentSpanId);
        Assert.Equal(client.SpanId, server.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Unset, client.Status);
    }

    [Fact]
    public async Task A_publication_and_its_event_share_one_trace_through_the_router()
    {
        using var test = TestSource.StartActivity("test")!;
        var consumed = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == WampTelemetry.Name,
            // This listener only waits for the consumer span's end; the tracer provider decides the sampling.
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStopped = a => { if (a.Kind == ActivityKind.Consumer && a.TraceId == test.TraceId) consumed.TrySetResult(a); },
        };
        ActivitySource.AddActivityListener(listener);
        var seen = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await _conferencesSession.SubscribeAsync<IConferenceEvents>(new DeletedEvents(seen));

        await _caller.GetPublisher<IConferenceEvents>().Deleted(7, "gone").AsTask().WaitAsync(Bound);
        Assert.Equal(7, await seen.Task.WaitAsync(Bound));
        var consumer = await consumed.Task.WaitAsync(Bound);

        _tracing.ForceFlush();
        var producer = Assert.Single(SpansOf(test.TraceId), s => s.Kind == ActivityKind.Producer);
        Assert.Equal(test.SpanId, producer.ParentSpanId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        foreach (var span in new[] { producer, consumer })
        {
            Assert.Equal(ConferencesService.Replace("IConferences", "IConferenceEvents") + "/Deleted", span.DisplayName);
            Assert.Equal("wamp", span.GetTagItem("rpc.system"));
            Assert.Equal("Deleted", span.GetTagItem("rpc.method"));
            Assert.Equal("com.example.conferences.deleted", span.GetTagItem("wamp.topic"));
        }
    }

    private sealed class DeletedEvents(TaskCompletionSource<int> seen) : IConferenceEvents
    {
        public Task Updated(Conference conference) => Task.CompletedTask;

        public ValueTask Deleted(int id, string? reason = null)
        {
            seen.TrySetResult(id);
            return ValueTask.CompletedTask;
        }
    }

    private long HistogramCount(string name, string method)
    {
        long count = 0;
        foreach (var point in Points(name, method)) count += point.GetHistogramCount();
        return count;
    }

    private long Sum(string name, string method)
    {
        long sum = 0;
        foreach (var point in Points(name, method)) sum += point.GetSumLong();
        return sum;
    }

    /// <summary>The points of an instrument for one method of this class's contracts (cumulative, from the last export).</summary>
    private List<MetricPoint> Points(string name, string method)
    {
        var points = new List<MetricPoint>();
        Metric[] exported;
        lock (_metrics) exported = _metrics.Where(m => m.Name == name).ToArray();
        // Each flush exports the cumulative state again: the last export of the instrument holds the totals.
        if (exported.Length == 0) return points;
        foreach (ref readonly var point in exported[^1].GetMetricPoints())
        {
            string? service = null, rpcMethod = null;
            foreach (var tag in point.Tags)
            {
                if (tag.Key == "rpc.service") service = tag.Value as string;
                if (tag.Key == "rpc.method") rpcMethod = tag.Value as string;
            }
            if (rpcMethod == method && (service == GatewayService || service == ConferencesService)) points.Add(point);
        }
        return points;
    }

    /// <summary>A list whose adds lock it, so a reader that holds its lock sees no add in the middle.</summary>
    private sealed class LockedList<T> : System.Collections.ObjectModel.Collection<T>
    {
        protected override void InsertItem(int index, T item)
        {
            lock (this) base.InsertItem(index, item);
        }
    }
}
