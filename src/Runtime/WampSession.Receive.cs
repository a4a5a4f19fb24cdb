using Microsoft.Extensions.Logging;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts;

public sealed partial class WampSession
{
    /// <summary>
    /// Reads the connection's messages until it closes. No message ends this loop except through an explicit,
    /// logged close of the connection (an ABORT where the protocol allows one); and whatever ends it, the
    /// connection is then lost, so the session reconnects or ends — it never stays "connected" with nobody reading.
    /// </summary>
    /// <remarks>
    /// The loop of reader <paramref name="generation"/> (see <see cref="ReaderGuard"/>): it hands each message out on its
    /// own thread, inside its <see cref="SendBatch"/>, and leaves when another reader has taken the connection over.
    /// </remarks>
    private async Task ReceiveLoopAsync(Connection connection, int generation)
    {
        var reader = connection.Reader!;
        var batch = new SendBatch();
        bool owner = true;
        WampReceiveResult r = default;
        WampMessage m = default;
        try
        {
            while (!connection.IsLost)
            {
                // IMPORTANT: the last message is let go before the wait (the loop's locals live on in its state machine):
                // an idle session must not hold the last message it got.
                r = default;
                m = default;
                try
                {
                    var receive = connection.Transport.ReceiveAsync(connection.Stopped.Token);
                    // Before the reader waits, what this thread deferred goes out.
                    if (!receive.IsCompleted) SendBatch.End();
                    r = await receive.ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    ConnectionLost(connection, WampConnectionException.TransportLost, $"The connection to the router was lost: {e.Message}", e);
                    return;
                }
                if (r.IsClosed)
                {
                    if (_goodbyeSent) Terminate(WampUris.CloseRealm, "The session was closed.", null);
                    else ConnectionLost(connection, WampConnectionException.TransportLost, "The router closed the connection.", null);
                    return;
                }
                if (r.Rejection is { } rejection)
                {
                    AbortConnection(connection, rejection);
                    return;
                }
                if (r.Oversized)
                {
                    OnUnreadable(connection, r.Message.Span, WampUris.PayloadSizeExceeded, $"larger than MaxMessageSize ({_options.MaxMessageSize} bytes)");
                    continue;
                }
                try
                {
                    m = WampMessageParser.Parse(r.Message);
                }
                catch (WampProtocolException e) when (e.ExceedsLimit)
                {
                    OnUnreadable(connection, r.Message.Span, WampUris.InvalidArgument, e.Message);
                    continue;
                }
                catch (WampProtocolException e)
                {
                    AbortConnection(connection, e.Message);
                    return;
                }
                SendBatch.Begin(batch);
                if (!reader.BeginDispatch(generation, batch))
                {
                    owner = false;
                    return;
                }
                try
                {
                    Dispatch(connection, m);
                }
                finally
                {
                    // Taken over while this message held the reader: the new reader goes on, this one leaves.
                    if (!reader.EndDispatch(generation)) owner = false;
                }
                if (!owner) return;
            }
        }
        catch (Exception e)
        {
            // Nothing a peer sends should reach this; if something does, the connection ends visibly, never silently.
            _log.ReceiveFailed(e, Realm);
            if (owner) AbortConnection(connection, $"the client failed to process a message ({e.GetType().Name})");
        }
        finally
        {
            SendBatch.End();
            if (owner)
            {
                if (!connection.IsLost)
                    ConnectionLost(connection, WampConnectionException.TransportLost, "The connection stopped receiving.", null);
                reader.Finish(generation);
            }
        }
    }

    private void Dispatch(Connection connection, in WampMessage m)
    {
        var pending = connection.Pending;
        // While leaving, only the GOODBYE reply matters.
        if (_goodbyeSent && m.Type != WampMessageType.Goodbye && m.Type != WampMessageType.Abort) return;
        switch (m.Type)
        {
            case WampMessageType.Result:
                // A progressive RESULT leaves the call pending; the final one removes it. Unknown ids are late answers: drop.
                var call = m.Dict.GetBool("progress"u8) ? pending.TryGet(m.Id1) : pending.TryRemove(m.Id1);
                call?.OnAnswer(m);
                break;
            case WampMessageType.Registered:
            case WampMessageType.Subscribed:
            case WampMessageType.Published:
                pending.TryRemove(m.Id1)?.OnAnswer(m);
                break;
            case WampMessageType.Unregistered:
                if (m.Id1 == 0) _registrations.TryRemove(m.Dict.GetInt64("registration"u8) ?? 0, out _);
                else pending.TryRemove(m.Id1)?.OnAnswer(m);
                break;
            case WampMessageType.Unsubscribed:
                if (m.Id1 == 0) OnSubscriptionRevoked(m.Dict.GetInt64("subscription"u8) ?? 0);
                else pending.TryRemove(m.Id1)?.OnAnswer(m);
                break;
            case WampMessageType.Error:
                // An error URI becomes a WampException's Uri, which must be a URI: one that is not breaks the protocol.
                if (m.Uri is null || !WampUris.IsValidLoose(m.Uri))
                {
                    AbortConnection(connection, $"ERROR with invalid URI '{m.Uri}'");
                    break;
                }
                switch ((WampMessageType)m.Id1)
                {
                    case WampMessageType.Call:
                    case WampMessageType.Register:
                    case WampMessageType.Unregister:
                    case WampMessageType.Subscribe:
                    case WampMessageType.Unsubscribe:
                    case WampMessageType.Publish:
                        pending.TryRemove(m.Id2)?.OnError(m);
                        break;
                    default:
                        AbortConnection(connection, $"ERROR for request type {m.Id1}");
                        break;
                }
                break;
            case WampMessageType.Invocation:
                OnInvocation(connection, m);
                break;
            case WampMessageType.Interrupt:
                if (connection.Invocations.TryGetValue(m.Id1, out var invocation))
                    invocation.Interrupt(byRouter: true);
                break;
            case WampMessageType.Event:
                OnEvent(m);
                break;
            case WampMessageType.Goodbye:
                if (_goodbyeSent)
                {
                    // The reply to our GOODBYE (any reason is accepted): the session is over.
                    Terminate(WampUris.CloseRealm, "The session was closed.", null, closeGracefully: true);
                    break;
                }
                // The router closes the session (a restart, a rolling deploy): answer, then reconnect when the
                // session has a reconnect policy. Only a GOODBYE the application asked for ends the session.
                connection.Sender.TryEnqueue(WampFrameWriter.Start(WampMessageType.Goodbye).EmptyDict().String(WampUris.GoodbyeAndOut).ToFrame());
                ConnectionLost(connection, m.Uri ?? WampUris.CloseNormal, $"The router closed the session: {m.Uri}{DetailMessage(m)}.", null, flush: true);
                break;
            case WampMessageType.Abort:
                ConnectionLost(connection, m.Uri ?? WampUris.ProtocolViolation, $"The router aborted the session: {m.Uri}{DetailMessage(m)}.", null);
                break;
            default:
                AbortConnection(connection, $"unexpected {m.Type} in an established session");
                break;
        }
    }

    private static string DetailMessage(in WampMessage m) => m.Dict.GetString("message"u8) is { } text ? $" ({text})" : "";

    /// <summary>
    /// A message that cannot be read whole (too large, or nested too deeply): the request it answers fails,
    /// an INVOCATION is refused with ERROR, an EVENT is dropped (and logged); the connection goes on. A message
    /// whose head cannot be read either breaks the protocol and closes the connection.
    /// </summary>
    private void OnUnreadable(Connection connection, ReadOnlySpan<byte> head, string uri, string reason)
    {
        if (!WampMessageParser.TryParseHead(head, out var type, out long first, out long second, out _))
        {
            AbortConnection(connection, $"a message that cannot be read: {reason}");
            return;
        }
        _log.UnreadableMessage(Realm, type, reason);
        var error = new WampException(uri, WampPayload.FromMessage(reason), $"The router's {type} cannot be read: {reason}");
        switch (type)
        {
            case WampMessageType.Result:
                connection.Pending.TryRemove(first)?.Fail(error);
                break;
            case WampMessageType.Error:
                connection.Pending.TryRemove(second)?.Fail(error);
                break;
            case WampMessageType.Invocation:
                SendError(connection, WampMessageType.Invocation, first, uri, WampPayload.FromMessage($"the INVOCATION cannot be read: {reason}"));
                break;
            case WampMessageType.Event:
                break; // nothing to answer; logged above
            default:
                AbortConnection(connection, $"{type} cannot be read: {reason}");
                break;
        }
    }

    /// <summary>The router broke the protocol: tell it (ABORT), close this connection, and reconnect if configured.</summary>
    private void AbortConnection(Connection connection, string message)
    {
        if (connection.IsLost) return;
        _log.ProtocolViolation(Realm, message);
        var w = WampFrameWriter.Start(WampMessageType.Abort);
        w.Json.WriteStartObject();
        w.Json.WriteString("message"u8, message);
        w.Json.WriteEndObject();
        connection.Sender.TryEnqueue(w.String(WampUris.ProtocolViolation).ToFrame());
        ConnectionLost(connection, WampUris.ProtocolViolation, $"The router broke the protocol: {message}.", null, flush: true);
    }
}
