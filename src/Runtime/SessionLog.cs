using Microsoft.Extensions.Logging;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>
/// What a <see cref="WampSession"/> logs (category <c>WampContracts.Session</c>), with stable event ids 1000–1099
/// listed in docs/architecture.md. Nothing is logged per successful call.
/// </summary>
internal static partial class SessionLog
{
    public const string Category = "WampContracts.Session";

    [LoggerMessage(1001, LogLevel.Information, "Joined realm '{Realm}' as session {SessionId}.")]
    public static partial void Joined(this ILogger logger, string realm, long sessionId);

    [LoggerMessage(1002, LogLevel.Warning, "The connection to realm '{Realm}' was lost ({Reason}): {Message} Reconnecting.")]
    public static partial void ConnectionLost(this ILogger logger, string realm, string reason, string message);

    [LoggerMessage(1003, LogLevel.Warning, "Reconnection attempt {Attempt} to realm '{Realm}' failed.")]
    public static partial void ReconnectFailed(this ILogger logger, Exception exception, string realm, int attempt);

    [LoggerMessage(1004, LogLevel.Information, "Rejoined realm '{Realm}' as session {SessionId} after {Attempt} attempt(s); registrations and subscriptions restored.")]
    public static partial void Reconnected(this ILogger logger, string realm, long sessionId, int attempt);

    [LoggerMessage(1005, LogLevel.Warning, "Closing the connection to realm '{Realm}': the router broke the protocol: {Message}")]
    public static partial void ProtocolViolation(this ILogger logger, string realm, string message);

    [LoggerMessage(1006, LogLevel.Warning, "A {Type} from the router of realm '{Realm}' cannot be read ({Reason}); its request fails, the connection goes on.")]
    public static partial void UnreadableMessage(this ILogger logger, string realm, WampMessageType type, string reason);

    [LoggerMessage(1007, LogLevel.Error, "The handler of '{Procedure}' (INVOCATION {RequestId}) threw; the caller gets wamp.error.runtime_error.")]
    public static partial void HandlerFailed(this ILogger logger, Exception exception, string procedure, long requestId);

    [LoggerMessage(1008, LogLevel.Error, "An event handler of '{Topic}' threw.")]
    public static partial void EventHandlerFailed(this ILogger logger, Exception exception, string topic);

    [LoggerMessage(1009, LogLevel.Error, "Processing a message from the router of realm '{Realm}' failed; the connection is closed.")]
    public static partial void ReceiveFailed(this ILogger logger, Exception exception, string realm);

    [LoggerMessage(1010, LogLevel.Warning, "{Request} for '{Uri}' was not confirmed by the router; released locally.")]
    public static partial void DisposeFailed(this ILogger logger, Exception exception, string request, string uri);

    [LoggerMessage(1011, LogLevel.Information, "Left realm '{Realm}' ({Reason}).")]
    public static partial void Closed(this ILogger logger, string realm, string reason);

    [LoggerMessage(1013, LogLevel.Error, "Expiring a time limit in a session of realm '{Realm}' failed.")]
    public static partial void TimerFailed(this ILogger logger, Exception exception, string realm);

    [LoggerMessage(1014, LogLevel.Debug, "Connecting to {Url} to join realm '{Realm}'.")]
    public static partial void Connecting(this ILogger logger, Uri url, string realm);

    [LoggerMessage(1015, LogLevel.Debug, "Reconnection attempt {Attempt} to realm '{Realm}' after a delay of {DelayMs} ms.")]
    public static partial void Reconnecting(this ILogger logger, string realm, int attempt, double delayMs);

    [LoggerMessage(1012, LogLevel.Warning, "Dropped an event of '{Topic}': the handlers are {MaxBufferedBytes} bytes behind ({Dropped} dropped so far).")]
    public static partial void EventsDropped(this ILogger logger, string topic, long dropped, long maxBufferedBytes);
}
