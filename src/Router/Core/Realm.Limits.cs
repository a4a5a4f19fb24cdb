using WampContracts.Protocol;

namespace WampContracts.Router.Core;

internal sealed partial class Realm
{
    /// <summary>
    /// A message that cannot be read whole: over <see cref="WampRouterOptions.MaxMessageSize"/> (only its head was
    /// kept) or nested past the parser's depth limit. The request it carried is refused with ERROR
    /// (<paramref name="uri"/>); a callee's answer fails the call for its caller; the session goes on. Returns
    /// false when the session must end (a message whose head cannot be read, or that answers nothing).
    /// </summary>
    public bool OnUnreadable(RouterSession session, ReadOnlySpan<byte> head, string uri, string message)
    {
        if (!WampMessageParser.TryParseHead(head, out var type, out long first, out long second, out bool acknowledge) || first == 0)
        {
            router.Log.ProtocolViolation(session.Id, message);
            session.Send(RouterFrames.Abort(uri, message));
            return false;
        }
        lock (Lock)
        {
            switch (type)
            {
                case WampMessageType.Call:
                case WampMessageType.Register:
                case WampMessageType.Subscribe:
                    session.Send(RouterFrames.Error(type, first, uri, message));
                    return true;
                case WampMessageType.Publish:
                    if (acknowledge) session.Send(RouterFrames.Error(type, first, uri, message));
                    return true;
                case WampMessageType.Yield:
                    FailInvocation(session, first, uri, message);
                    return true;
                case WampMessageType.Error when first == (long)WampMessageType.Invocation:
                    FailInvocation(session, second, uri, message);
                    return true;
                default:
                    router.Log.ProtocolViolation(session.Id, $"{type}: {message}");
                    session.Send(RouterFrames.Abort(uri, $"{type}: {message}"));
                    return false;
            }
        }
    }

    /// <summary>
    /// Refuses a REGISTER or SUBSCRIBE that would give the session more than <paramref name="limit"/> entries of that
    /// kind with <c>wamp.error.limit_exceeded</c>, naming the limit. Returns false when it refused.
    /// </summary>
    private static bool WithinSessionLimit(RouterSession session, WampMessageType requestType, long requestId, int held, int limit, string option)
    {
        if (held < limit) return true;
        string what = requestType == WampMessageType.Register ? "registrations" : "subscriptions";
        session.Send(RouterFrames.Error(requestType, requestId, WampUris.LimitExceeded,
            $"the session already holds {held} {what}, the router's limit per session ({option} = {limit})"));
        return false;
    }

    /// <summary>A callee's answer could not be relayed: its caller gets the error instead of waiting.</summary>
    private void FailInvocation(RouterSession callee, long invocationId, string uri, string message)
    {
        if (!callee.Invocations.TryGetValue(invocationId, out var invocation)) return;
        End(invocation);
        invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, uri,
            $"the callee's answer to '{invocation.Procedure}' could not be relayed: {message}"));
    }
}
