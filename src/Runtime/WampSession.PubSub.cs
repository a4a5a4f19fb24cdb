using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>Handles one event of a subscription.</summary>
public delegate ValueTask WampEventHandler(WampEvent @event, CancellationToken cancellationToken);

/// <summary>One EVENT as a subscriber sees it.</summary>
public sealed class WampEvent
{
    internal WampEvent(string topic, in WampMessage message)
    {
        SubscriptionId = message.Id1;
        PublicationId = message.Id2;
        Details = message.Dict;
        Payload = message.Payload;
        Topic = message.Dict.GetString("topic"u8) ?? topic;
        Publisher = message.Dict.GetInt64("publisher"u8);
    }

    public long SubscriptionId { get; }

    public long PublicationId { get; }

    /// <summary>The topic published to: the subscribed one, or the concrete one for pattern subscriptions.</summary>
    public string Topic { get; }

    /// <summary>The publisher's session id, when the broker disclosed it.</summary>
    public long? Publisher { get; }

    public WampDict Details { get; }

    public WampPayload Payload { get; }
}

public sealed partial class WampSession
{
    private readonly Lock _subscriptionsLock = new();
    private readonly Dictionary<long, SubscriptionHandler[]> _subscriptions = new();
    private readonly Channel<EventDispatch> _events;
    private Task _eventLoop = Task.CompletedTask;

    // Every live handler, to subscribe again on a new connection after a reconnection.
    private readonly List<SubscriptionHandler> _handlers = new();

    internal sealed class SubscriptionHandler(string topic, WampEventHandler handler, WampSubscribeOptions options, WampMethodDescriptor? method = null)
    {
        public WampMethodDescriptor? Method { get; } = method;

        public string Topic { get; } = topic;
        public WampEventHandler Handler { get; } = handler;
        public WampSubscribeOptions Options { get; } = options;

        /// <summary>The broker's id for it on the current connection.</summary>
        public long SubscriptionId { get; set; }
    }

    private readonly record struct EventDispatch(SubscriptionHandler[] Handlers, WampMessage Message);

    /// <summary>
    /// Subscribes <paramref name="handler"/> to <paramref name="topic"/>. Events are delivered in the order they
    /// arrive, one at a time, off the session's reader. Dispose the returned subscription to stop.
    /// </summary>
    public Task<WampSubscription> SubscribeAsync(string topic, WampEventHandler handler, WampSubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeAsync(topic, handler, options, method: null, cancellationToken);

    internal async Task<WampSubscription> SubscribeAsync(string topic, WampEventHandler handler, WampSubscribeOptions? options, WampMethodDescriptor? method,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options ??= WampSubscribeOptions.Default;
        if (!WampUris.IsValidLoose(topic, allowEmptyComponents: options.Match == WampMatch.Wildcard, allowEmptyLast: options.Match != WampMatch.Exact))
            throw new ArgumentException($"'{topic}' is not a valid topic URI.", nameof(topic));
        var entry = new SubscriptionHandler(topic, handler, options, method);
        await SubscribeOnConnectionAsync([entry], cancellationToken).ConfigureAwait(false);
        lock (_subscriptionsLock) _handlers.Add(entry);
        return new WampSubscription(this, entry);
    }

    /// <summary>Subscribes handlers of one topic and policy with one SUBSCRIBE; the reader files them as SUBSCRIBED arrives.</summary>
    private async Task SubscribeOnConnectionAsync(SubscriptionHandler[] handlers, CancellationToken cancellationToken)
    {
        long id = NextRequestId();
        var w = WampFrameWriter.Start(WampMessageType.Subscribe).Id(id);
        w.Json.WriteStartObject();
        if (handlers[0].Options.Match != WampMatch.Exact) w.Json.WriteString("match"u8, handlers[0].Options.Match.ToWire());
        w.Json.WriteEndObject();
        await SendRequestAsync(id, w.String(handlers[0].Topic).ToFrame(), WampMessageType.Subscribed, handlers, cancellationToken).ConfigureAwait(false);
    }

    private IEnumerable<SubscriptionHandler[]> ActiveSubscriptionGroups()
    {
        lock (_subscriptionsLock)
        {
            _subscriptions.Clear(); // ids of the old connection mean nothing on the new one
            return _handlers.GroupBy(h => (h.Topic, h.Options.Match)).Select(g => g.ToArray()).ToArray();
        }
    }

    /// <summary>
    /// Publishes to <paramref name="topic"/>. Without <see cref="WampPublishOptions.Acknowledge"/> it returns 0 once the
    /// message is queued; with it, the publication id from PUBLISHED (or throws the broker's ERROR).
    /// </summary>
    public ValueTask<long> PublishAsync(string topic, WampPayload payload = default, WampPublishOptions? options = null, CancellationToken cancellationToken = default) =>
        PublishAsync(topic, payload, options, method: null, cancellationToken);

    internal async ValueTask<long> PublishAsync(string topic, WampPayload payload, WampPublishOptions? options, WampMethodDescriptor? method,
        CancellationToken cancellationToken)
    {
        options ??= WampPublishOptions.Default;
        if (!WampUris.IsValidLoose(topic))
            throw new ArgumentException($"'{topic}' is not a valid topic URI.", nameof(topic));
        // A producer span when someone listens; the trace context (ours or the application's) goes with the event.
        using var activity = WampTelemetry.Source.HasListeners()
            ? WampTelemetry.Start(WampTelemetry.SpanName(method, topic), ActivityKind.Producer, default, method, WampTelemetry.Topic, topic)
            : null;
        var (traceParent, traceState) = CallExtras.CurrentTraceContext();
        var extras = new CallExtras { TraceParent = traceParent, TraceState = traceState };
        if (_options.MetadataInPayload && traceParent is not null) payload = CallMetadata.AddToPayload(payload, null, null, extras);
        long id = NextRequestId();
        var w = WampFrameWriter.Start(WampMessageType.Publish).Id(id);
        var json = w.Json;
        json.WriteStartObject();
        if (options.Acknowledge) json.WriteBoolean("acknowledge"u8, true);
        if (!options.ExcludeMe) json.WriteBoolean("exclude_me"u8, false);
        if (options.DiscloseMe) json.WriteBoolean("disclose_me"u8, true);
        WriteIds(json, "eligible"u8, options.Eligible);
        WriteIds(json, "exclude"u8, options.Exclude);
        extras.WriteOptions(json);
        json.WriteEndObject();
        var frame = w.String(topic).Payload(payload).ToFrame();
        if (!options.Acknowledge)
        {
            if (!TryEnqueue(frame)) throw NotConnected();
            return 0;
        }
        var answer = await SendRequestAsync(id, frame, WampMessageType.Published, null, cancellationToken).ConfigureAwait(false);
        return answer.Id2;

        static void WriteIds(System.Text.Json.Utf8JsonWriter json, ReadOnlySpan<byte> name, IReadOnlyList<long>? ids)
        {
            if (ids is null) return;
            json.WriteStartArray(name);
            foreach (long session in ids) json.WriteNumberValue(session);
            json.WriteEndArray();
        }
    }

    private void AddSubscriptionHandler(long subscriptionId, SubscriptionHandler handler)
    {
        handler.SubscriptionId = subscriptionId;
        lock (_subscriptionsLock)
        {
            // Copy on write: the reader loop takes the array without the lock held during dispatch.
            _subscriptions[subscriptionId] = _subscriptions.TryGetValue(subscriptionId, out var existing) ? [.. existing, handler] : [handler];
        }
    }

    internal async Task UnsubscribeAsync(SubscriptionHandler handler, CancellationToken cancellationToken)
    {
        bool last;
        long subscriptionId;
        lock (_subscriptionsLock)
        {
            _handlers.Remove(handler);
            subscriptionId = handler.SubscriptionId;
            if (!_subscriptions.TryGetValue(subscriptionId, out var existing)) return;
            var remaining = existing.Where(h => !ReferenceEquals(h, handler)).ToArray();
            last = remaining.Length == 0;
            if (last) _subscriptions.Remove(subscriptionId);
            else _subscriptions[subscriptionId] = remaining;
        }
        // The router keeps one subscription per session and topic: only the last local handler unsubscribes.
        if (!last || !IsConnected) return;
        long id = NextRequestId();
        var frame = WampFrameWriter.Start(WampMessageType.Unsubscribe).Id(id).Id(subscriptionId).ToFrame();
        await SendRequestAsync(id, frame, WampMessageType.Unsubscribed, null, cancellationToken).ConfigureAwait(false);
    }

    private void OnEvent(in WampMessage m)
    {
        SubscriptionHandler[]? handlers;
        lock (_subscriptionsLock) handlers = _subscriptions.GetValueOrDefault(m.Id1);
        if (handlers is null) return;
        // Events wait for their handlers within the session's buffer bound; past it a subscriber that cannot keep up
        // loses events (logged) instead of making the session hold without bound what the router sends.
        int size = m.Raw.Length;
        if (!TryBuffer(size))
        {
            long dropped = Interlocked.Increment(ref _droppedEvents);
            if (dropped == 1 || dropped % 1000 == 0) _log.EventsDropped(handlers[0].Topic, dropped, _options.MaxBufferedBytes);
            return;
        }
        if (!_events.Writer.TryWrite(new EventDispatch(handlers, m))) Unbuffer(size);
    }

    private long _droppedEvents;

    private static Activity? StartEventActivity(WampEvent @event, WampMethodDescriptor? method)
    {
        string? parent = @event.Details.GetString(CallMetadata.TraceParentOption), state = null;
        if (parent is not null) state = @event.Details.GetString(CallMetadata.TraceStateOption);
        else
        {
            var carried = CallMetadata.FromPayload(@event.Payload);
            (parent, state) = (carried.TraceParent, carried.TraceState);
        }
        ActivityContext.TryParse(parent, state, isRemote: true, out var parentContext);
        return WampTelemetry.Start(WampTelemetry.SpanName(method, @event.Topic), ActivityKind.Consumer, parentContext, method, WampTelemetry.Topic, @event.Topic);
    }

    private void OnSubscriptionRevoked(long subscriptionId)
    {
        lock (_subscriptionsLock) _subscriptions.Remove(subscriptionId);
    }

    private async Task EventLoopAsync()
    {
        var reader = _events.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var dispatch))
            {
                Unbuffer(dispatch.Message.Raw.Length);
                foreach (var entry in dispatch.Handlers)
                {
                    var @event = new WampEvent(entry.Topic, dispatch.Message);
                    // A consumer span per handler when someone listens, a child of the publisher's span.
                    using var activity = WampTelemetry.Source.HasListeners() ? StartEventActivity(@event, entry.Method) : null;
                    try
                    {
                        await entry.Handler(@event, _closed.Token).ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        _log.EventHandlerFailed(e, entry.Topic);
                        var tags = default(System.Diagnostics.TagList);
                        WampTelemetry.Fail(activity, e, ref tags);
                        ReportHandlerError(e);
                    }
                }
            }
        }
    }
}

/// <summary>A subscription; dispose it to unsubscribe.</summary>
public sealed class WampSubscription : IAsyncDisposable
{
    private readonly WampSession _session;
    private readonly WampSession.SubscriptionHandler _handler;
    private int _disposed;

    internal WampSubscription(WampSession session, WampSession.SubscriptionHandler handler)
    {
        _session = session;
        _handler = handler;
    }

    /// <summary>The subscription id the broker assigned (shared by every local handler of the same topic; new after a reconnection).</summary>
    public long Id => _handler.SubscriptionId;

    public string Topic => _handler.Topic;

    /// <summary>
    /// Unsubscribes (bounded by the session's operation timeout); a no-op once the session has ended. Never throws:
    /// when the router does not answer or refuses, the failure is logged and the handler released locally.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _session.UnsubscribeAsync(_handler, CancellationToken.None).ConfigureAwait(false);
        }
        catch (WampConnectionException)
        {
            // The session is gone, and the router dropped the subscription with it.
        }
        catch (Exception e)
        {
            // Disposal never throws for the router's failure to answer: the handler is already released here.
            _session.Log.DisposeFailed(e, "UNSUBSCRIBE", _handler.Topic);
        }
    }
}
