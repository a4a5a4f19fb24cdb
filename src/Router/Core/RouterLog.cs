using Microsoft.Extensions.Logging;

namespace WampContracts.Router.Core;

/// <summary>
/// What the router logs (category <c>WampContracts.Router</c>), with stable event ids 2000–2099 listed in
/// docs/architecture.md. Nothing is logged per routed message.
/// </summary>
internal static partial class RouterLog
{
    public const string Category = "WampContracts.Router";

    [LoggerMessage(2001, LogLevel.Debug, "Session {SessionId} joined realm '{Realm}'.")]
    public static partial void SessionJoined(this ILogger logger, long sessionId, string realm);

    [LoggerMessage(2002, LogLevel.Warning, "Closing session {SessionId}: protocol violation: {Message}")]
    public static partial void ProtocolViolation(this ILogger logger, long sessionId, string message);

    [LoggerMessage(2003, LogLevel.Warning, "Cutting off session {SessionId}: it stopped reading ({Queued} messages, {QueuedBytes} bytes waiting; limit {MaxBytes} bytes).")]
    public static partial void SlowConsumerCutOff(this ILogger logger, long sessionId, int queued, long queuedBytes, long maxBytes);

    [LoggerMessage(2004, LogLevel.Error, "Session {SessionId} failed unexpectedly and was closed.")]
    public static partial void SessionFailed(this ILogger logger, Exception exception, long sessionId);

    [LoggerMessage(2005, LogLevel.Warning, "Refused a connection: {Reason}.")]
    public static partial void ConnectionRefused(this ILogger logger, string reason);

    [LoggerMessage(2011, LogLevel.Debug, "Session {SessionId} left realm '{Realm}'.")]
    public static partial void SessionLeft(this ILogger logger, long sessionId, string realm);

    [LoggerMessage(2012, LogLevel.Debug, "The connection of session {SessionId} ended ({ExceptionType}: {Message}).")]
    public static partial void TransportEnded(this ILogger logger, long sessionId, string exceptionType, string message);

    [LoggerMessage(2013, LogLevel.Debug, "Sending to session {SessionId} failed ({ExceptionType}: {Message}); the connection is closed.")]
    public static partial void SendFailed(this ILogger logger, long sessionId, string exceptionType, string message);

    [LoggerMessage(2010, LogLevel.Error, "Expiring a call's time limit in realm '{Realm}' failed.")]
    public static partial void CallTimerFailed(this ILogger logger, Exception exception, string realm);

    [LoggerMessage(2006, LogLevel.Information, "Refused a session: {Reason}: {Message}")]
    public static partial void SessionRefused(this ILogger logger, string reason, string message);

    // Authentication: the authid is logged (cut to 100 characters), a ticket, secret or signature never.
    [LoggerMessage(2007, LogLevel.Warning, "Session {SessionId} failed {AuthMethod} authentication as '{AuthId}' on realm '{Realm}': {Reason}.")]
    public static partial void AuthenticationFailed(this ILogger logger, long sessionId, string authMethod, string authId, string realm, string reason);

    [LoggerMessage(2008, LogLevel.Error, "The {AuthMethod} authenticator of realm '{Realm}' failed for '{AuthId}' (session {SessionId}); the session was refused.")]
    public static partial void AuthenticatorFailed(this ILogger logger, Exception exception, string authMethod, string realm, string authId, long sessionId);

    [LoggerMessage(2009, LogLevel.Debug, "Session {SessionId} authenticated as '{AuthId}' with role '{AuthRole}' by {AuthMethod} ({AuthProvider}) on realm '{Realm}'.")]
    public static partial void Authenticated(this ILogger logger, long sessionId, string authId, string authRole, string authMethod, string authProvider, string realm);

    [LoggerMessage(2020, LogLevel.Debug, "Session {SessionId} (authrole '{AuthRole}') was refused to {Action} '{Uri}'.")]
    public static partial void ActionDenied(this ILogger logger, long sessionId, string authRole, string action, string uri);

    [LoggerMessage(2021, LogLevel.Warning, "The authorizer of authrole '{AuthRole}' failed to decide whether session {SessionId} may {Action} '{Uri}'; denied.")]
    public static partial void AuthorizerFailed(this ILogger logger, Exception exception, long sessionId, string authRole, string action, string uri);

    [LoggerMessage(2022, LogLevel.Warning, "The authorizer of authrole '{AuthRole}' did not decide within {TimeoutMs} ms whether session {SessionId} may {Action} '{Uri}'; denied.")]
    public static partial void AuthorizerTimedOut(this ILogger logger, long sessionId, string authRole, string action, string uri, double timeoutMs);
}
