using WampContracts.Protocol;

namespace WampContracts;

public sealed partial class WampSession
{
    private async Task ReceiveLoopAsync(Connection connection)
    {
        while (!connection.IsLost)
        {
            WampReceive next;
            try
            {
                var r = await connection.Transport.ReceiveAsync(connection.Stopped.Token).ConfigureAwait(false);
                next = new WampReceive(r.Message, r.Oversized, r.IsClosed);
            }
            catch (Exception e)
            {
                ConnectionLost(connection, WampConnectionException.TransportLost, $"The connection to the router was lost: {e.Message}", e);
                return;
            }
            if (next.Closed)
            {
                if (_goodbyeSent) Terminate(WampUris.CloseRealm, "The session was closed.", null);
                else ConnectionLost(connection, WampConnectionException.TransportLost, "The router closed the connection.", null);
                return;
            }
            if (next.Oversized)
            {
                OnOversized(connection, next.Message.Span);
                continue;
            }
            WampMessage m;
            try
            {
                m = WampMessageParser.Parse(next.Message);
            }
            catch (WampProtocolException e)
            {
                ProtocolViolation(e.Message);
                return;
            }
            Dispatch(connection, m);
        }
    }

    private readonly record struct WampReceive(ReadOnlyMemory<byte> Message, bool Oversized, bool Closed);

    private void Dispatch(Connection connection, in WampMessage m)
    {
        var pending = connection.Pending;
        // While shutting down, only the GOODBYE reply matters.
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
                        ProtocolViolation($"ERROR for request type {m.Id1}");
                        break;
                }
                break;
            case WampMessageType.Invocation:
                OnInvocation(m);
                break;
            case WampMessageType.Interrupt:
                OnInterrupt(m);
                break;
            case WampMessageType.Event:
                OnEvent(m);
                break;
            case WampMessageType.Goodbye:
                if (!_goodbyeSent)
                {
                    // The router closes the session: answer, then end. Any reason is accepted.
                    _goodbyeSent = true;
                    TryEnqueue(WampFrameWriter.Start(WampMessageType.Goodbye).EmptyDict().String(WampUris.GoodbyeAndOut).ToFrame());
                    Terminate(m.Uri ?? WampUris.CloseNormal, $"The router closed the session: {m.Uri}{DetailMessage(m)}.", null, closeGracefully: true);
                }
                else
                {
                    // The reply to our GOODBYE (any reason is accepted): the session is over.
                    Terminate(WampUris.CloseRealm, "The session was closed.", null, closeGracefully: true);
                }
                break;
            case WampMessageType.Abort:
                Terminate(m.Uri ?? WampUris.ProtocolViolation, $"The router aborted the session: {m.Uri}{DetailMessage(m)}.", null);
                break;
            default:
                ProtocolViolation($"unexpected {m.Type} in an established session");
                break;
        }
    }

    private static string DetailMessage(in WampMessage m) => m.Dict.GetString("message"u8) is { } text ? $" ({text})" : "";

    /// <summary>A message past <see cref="WampSessionOptions.MaxMessageSize"/>: fail the request it answers, keep the session.</summary>
    private void OnOversized(Connection connection, ReadOnlySpan<byte> prefix)
    {
        var pending = connection.Pending;
        if (!WampMessageParser.TryParseHead(prefix, out var type, out long id, out _, out _))
        {
            ProtocolViolation("an oversized message whose type cannot be read");
            return;
        }
        var error = new WampException(WampUris.PayloadSizeExceeded, $"The router's {type} was larger than MaxMessageSize ({_options.MaxMessageSize} bytes).");
        switch (type)
        {
            case WampMessageType.Result:
                pending.TryRemove(id)?.Fail(error);
                break;
            case WampMessageType.Invocation:
                SendError(WampMessageType.Invocation, id, WampUris.PayloadSizeExceeded, WampPayload.Empty);
                break;
            case WampMessageType.Error:
                // ERROR's second element is the request type; the request id is not in the head we parsed.
                break;
            default:
                break; // an oversized EVENT is dropped
        }
    }

    private void ProtocolViolation(string message)
    {
        var w = WampFrameWriter.Start(WampMessageType.Abort);
        w.Json.WriteStartObject();
        w.Json.WriteString("message"u8, message);
        w.Json.WriteEndObject();
        TryEnqueue(w.String(WampUris.ProtocolViolation).ToFrame());
        Terminate(WampUris.ProtocolViolation, $"The router broke the protocol: {message}.", null, closeGracefully: true);
    }
}
