using System.Text.Json;
using WampContracts.Protocol;
using WampContracts.Router.Backplane;

namespace WampContracts.Router.Core;

internal sealed partial class Realm
{
    private readonly UriIndex<Subscription> _subscriptions = new();

    private void OnSubscribe(RouterSession session, in WampMessage m, AuthorizerAnswer? answer)
    {
        long requestId = m.Id1;
        if (!IsKnownMatch(m.Dict))
        {
            session.Send(RouterFrames.Error(WampMessageType.Subscribe, requestId, WampUris.InvalidArgument, $"unknown match policy '{m.Dict.GetString("match"u8)}'"));
            return;
        }
        var match = ParseMatch(m.Dict);
        string? topic = m.Uri;
        // Subscribing to the router's own meta events (wamp.session.on_join, ...) is allowed (in a configured realm,
        // to roles with a rule in the reserved namespace).
        bool meta = topic is not null && WampUris.IsReserved(topic)
            && WampUris.IsValidLoose(topic, allowEmptyComponents: match == WampMatch.Wildcard, allowEmptyLast: match != WampMatch.Exact);
        if (!meta && !CheckUri(session, WampMessageType.Subscribe, requestId, topic, match)) return;
        if (!Authorize(session, WampAction.Subscribe, WampMessageType.Subscribe, requestId, topic!, match, answer, out _)) return;

        var subscription = _subscriptions.Find(topic!, match);
        // Subscribing again to the same topic and policy returns the same subscription, even at the limit.
        if ((subscription is null || !session.Subscriptions.Contains(subscription)) &&
            !WithinSessionLimit(session, WampMessageType.Subscribe, requestId, session.Subscriptions.Count, Options.MaxSubscriptionsPerSession,
                nameof(WampRouterOptions.MaxSubscriptionsPerSession)))
            return;
        if (subscription is null)
        {
            subscription = new Subscription { Id = router.NextId(), Uri = topic!, Match = match };
            _subscriptions.Add(subscription);
        }
        if (session.Subscriptions.Add(subscription)) subscription.Subscribers.Add(session);
        session.Send(RouterFrames.Ack(WampMessageType.Subscribed, requestId, subscription.Id));
    }

    private void OnUnsubscribe(RouterSession session, in WampMessage m)
    {
        if (!_subscriptions.TryGet(m.Id2, out var subscription) || !session.Subscriptions.Contains(subscription))
        {
            session.Send(RouterFrames.Error(WampMessageType.Unsubscribe, m.Id1, WampUris.NoSuchSubscription, $"no subscription {m.Id2} of this session"));
            return;
        }
        RemoveSubscriber(session, subscription);
        session.Send(RouterFrames.Ack(WampMessageType.Unsubscribed, m.Id1));
    }

    private void RemoveSubscriber(RouterSession session, Subscription subscription)
    {
        subscription.Subscribers.Remove(session);
        session.Subscriptions.Remove(subscription);
        if (subscription.Subscribers.Count == 0) _subscriptions.Remove(subscription);
    }

    private void LeaveBroker(RouterSession session)
    {
        foreach (var subscription in session.Subscriptions.ToArray()) RemoveSubscriber(session, subscription);
    }

    private void OnPublish(RouterSession publisher, in WampMessage m, AuthorizerAnswer? answer)
    {
        long requestId = m.Id1;
        bool acknowledge = m.Dict.GetBool("acknowledge"u8);
        string? topic = m.Uri;
        // Unacknowledged publications fail silently, as the protocol says.
        if (!CheckUri(publisher, WampMessageType.Publish, requestId, topic, reply: acknowledge)) return;
        if (!Authorize(publisher, WampAction.Publish, WampMessageType.Publish, requestId, topic!, WampMatch.Exact, answer, out bool discloseByRule, reply: acknowledge))
            return;

        var backplane = Backplane;
        if (acknowledge && backplane is { IsAvailable: false })
        {
            publisher.Send(RouterFrames.Error(WampMessageType.Publish, requestId, WampBackplaneErrors.Unavailable,
                $"the event on '{RouterFrames.Quote(topic)}' was not published: the backplane to the other nodes is unreachable"));
            return;
        }
        long publicationId = router.NewPublicationId();
        var filter = new DeliveryFilter(m.Dict, publisher);
        // An open realm discloses the publisher when it asks; a configured one when its rule says so (disclose
        // publisher), whatever it asks, as Crossbar.io does.
        bool disclose = Authorization is null ? m.Dict.GetBool("disclose_me"u8) : discloseByRule;
        Deliver(topic!, publicationId, m.Payload, filter, disclose ? publisher : null, m.Dict);
        if (backplane is not null)
        {
            PublishAcrossNodes(backplane, publisher, m, topic!, publicationId, disclose, acknowledge);
            return;
        }
        if (acknowledge) publisher.Send(RouterFrames.Ack(WampMessageType.Published, requestId, publicationId));
    }

    /// <summary>Sends one EVENT per matching subscription; the frame is built once per subscription and shared by its subscribers.</summary>
    private void Deliver(string topic, long publicationId, WampPayload payload, DeliveryFilter filter, RouterSession? disclosedPublisher, WampDict publishOptions = default)
    {
        if (_subscriptions.Exact(topic) is { } exact) Deliver(exact, topic, publicationId, payload, filter, disclosedPublisher, publishOptions);
        var patterns = new PatternDelivery(topic, publicationId, payload, filter, disclosedPublisher, publishOptions);
        _subscriptions.VisitPatternMatches(topic, ref patterns);
    }

    /// <summary>Delivers to each prefix and wildcard subscription the index finds for a topic.</summary>
    private readonly struct PatternDelivery(string topic, long publicationId, WampPayload payload, DeliveryFilter filter, RouterSession? disclosedPublisher,
        WampDict publishOptions) : IEntryVisitor<Subscription>
    {
        public void Visit(Subscription subscription) => Deliver(subscription, topic, publicationId, payload, filter, disclosedPublisher, publishOptions);
    }

    private static void Deliver(Subscription subscription, string topic, long publicationId, WampPayload payload, DeliveryFilter filter, RouterSession? disclosedPublisher,
        WampDict publishOptions)
    {
        WampFrame? frame = null;
        foreach (var subscriber in subscription.Subscribers)
        {
            if (!filter.Allows(subscriber)) continue;
            frame ??= EventFrame(subscription, topic, publicationId, payload, disclosedPublisher, publishOptions);
            subscriber.Send(frame.Value);
        }
    }

    private static WampFrame EventFrame(Subscription subscription, string topic, long publicationId, WampPayload payload, RouterSession? publisher,
        WampDict publishOptions)
    {
        var w = WampFrameWriter.Start(WampMessageType.Event).Id(subscription.Id).Id(publicationId);
        w.Json.WriteStartObject();
        if (subscription.Match != WampMatch.Exact) w.Json.WriteString("topic"u8, topic);
        if (publisher is not null)
        {
            w.Json.WriteNumber("publisher"u8, publisher.Id);
            w.Json.WriteString("publisher_authid"u8, publisher.AuthId);
            w.Json.WriteString("publisher_authrole"u8, publisher.AuthRole);
        }
        // Custom x_ options (a trace context, say) travel to the subscribers untouched, as x_ CALL options do to callees.
        publishOptions.WriteCustomOptions(w.Json);
        w.Json.WriteEndObject();
        // Unpooled: the same frame is queued to every subscriber of the subscription.
        return w.Payload(payload).ToFrame(pooled: false);
    }

    /// <summary>Publishes a meta event (<c>wamp.session.on_join</c>, ...) from the router itself.</summary>
    private void PublishMeta(string topic, WampPayload payload)
    {
        if (_subscriptions.IsEmpty) return;
        Deliver(topic, router.NewPublicationId(), payload, DeliveryFilter.Everyone, null);
    }

    /// <summary>PUBLISH options that decide who receives an event: publisher exclusion and black/white listing.</summary>
    private readonly struct DeliveryFilter
    {
        public static DeliveryFilter Everyone => default;

        private readonly RouterSession? _excludedPublisher;
        private readonly HashSet<long>? _exclude, _eligible;
        private readonly HashSet<string>? _excludeAuthId, _eligibleAuthId, _excludeAuthRole, _eligibleAuthRole;

        public DeliveryFilter(WampDict options, RouterSession? publisher)
        {
            _excludedPublisher = options.GetBool("exclude_me"u8, defaultValue: true) ? publisher : null;
            _exclude = Ids(options.GetRaw("exclude"u8));
            _eligible = Ids(options.GetRaw("eligible"u8));
            _excludeAuthId = Strings(options.GetRaw("exclude_authid"u8));
            _eligibleAuthId = Strings(options.GetRaw("eligible_authid"u8));
            _excludeAuthRole = Strings(options.GetRaw("exclude_authrole"u8));
            _eligibleAuthRole = Strings(options.GetRaw("eligible_authrole"u8));
        }

        public bool Allows(RouterSession s) =>
            !ReferenceEquals(s, _excludedPublisher)
            && (_exclude is null || !_exclude.Contains(s.Id))
            && (_eligible is null || _eligible.Contains(s.Id))
            && (_excludeAuthId is null || !_excludeAuthId.Contains(s.AuthId))
            && (_eligibleAuthId is null || _eligibleAuthId.Contains(s.AuthId))
            && (_excludeAuthRole is null || !_excludeAuthRole.Contains(s.AuthRole))
            && (_eligibleAuthRole is null || _eligibleAuthRole.Contains(s.AuthRole));

        private static HashSet<long>? Ids(ReadOnlyMemory<byte> json)
        {
            if (json.IsEmpty) return null;
            var set = new HashSet<long>();
            var r = new Utf8JsonReader(json.Span, WampMessageParser.ReaderOptions);
            while (r.Read())
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long id)) set.Add(id);
            return set;
        }

        private static HashSet<string>? Strings(ReadOnlyMemory<byte> json)
        {
            if (json.IsEmpty) return null;
            var set = new HashSet<string>(StringComparer.Ordinal);
            var r = new Utf8JsonReader(json.Span, WampMessageParser.ReaderOptions);
            while (r.Read())
                if (r.TokenType == JsonTokenType.String) set.Add(r.GetString()!);
            return set;
        }
    }
}
