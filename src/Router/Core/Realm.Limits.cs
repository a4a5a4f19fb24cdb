using WampContracts.Protocol;

namespace WampContracts.Router.Core;

internal sealed partial class Realm
{
    /// <summary>
    /// A message over <see cref="WampRouterOptions.MaxMessageSize"/> was received, of which only the head was kept.
    /// The request it carried is refused with <c>wamp.error.payload_size_exceeded</c>; the session goes on.
    /// Returns false when the session must end.
    /// </summary>
    public bool OnOversized(RouterSession session, ReadOnlySpan<byte> head)
    {
        string message = $"message larger than the router's limit of {Options.MaxMessageSize} bytes";
        if (!WampMessageParser.TryParseHead(head, out var type, out long first, out long second, out bool acknowledge))
        {
            session.Send(RouterFrames.Abort(WampUris.PayloadSizeExceeded, message));
            return false;
        }
        lock (Lock)
        {
            switch (type)
            {
                case WampMessageType.Call:
                case WampMessageType.Register:
                case WampMessageType.Subscribe:
                    session.Send(RouterFrames.Error(type, first, WampUris.PayloadSizeExceeded, message));
                    return true;
                case WampMessageType.Publish:
                    if (acknowledge) session.Send(RouterFrames.Error(type, first, WampUris.PayloadSizeExceeded, message));
                    return true;
                case WampMessageType.Yield:
                    FailInvocation(session, first, message);
                    return true;
                case WampMessageType.Error when first == (long)WampMessageType.Invocation:
                    FailInvocation(session, second, message);
                    return true;
                default:
                    session.Send(RouterFrames.Abort(WampUris.PayloadSizeExceeded, $"{type} {message}"));
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
    private static void FailInvocation(RouterSession callee, long invocationId, string message)
    {
        if (!callee.Invocations.TryGetValue(invocationId, out var invocation)) return;
        End(invocation);
        invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, WampUris.PayloadSizeExceeded,
            $"the callee's answer to '{invocation.Procedure}' was a {message}"));
    }
}
