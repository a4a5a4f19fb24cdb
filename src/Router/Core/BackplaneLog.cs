using Microsoft.Extensions.Logging;

namespace WampContracts.Router.Core;

// What the router logs about its backplane (event ids 2030–2039).
internal static partial class RouterLog
{
    [LoggerMessage(2030, LogLevel.Warning, "The backplane did not take a message of realm '{Realm}'.")]
    public static partial void BackplaneSendFailed(this ILogger logger, Exception exception, string realm);

    [LoggerMessage(2031, LogLevel.Warning, "Dropped a backplane message: {Reason}.")]
    public static partial void BackplaneMessageRefused(this ILogger logger, string reason);

    [LoggerMessage(2032, LogLevel.Information, "Router node {Node} joined the backplane.")]
    public static partial void BackplaneNodeJoined(this ILogger logger, long node);

    [LoggerMessage(2033, LogLevel.Warning, "Router node {Node} renewed no heartbeat within {TimeoutMs} ms: its registrations, subscriptions and calls are dropped.")]
    public static partial void BackplaneNodeLost(this ILogger logger, long node, double timeoutMs);

    [LoggerMessage(2034, LogLevel.Warning, "The backplane is available: {Available}.")]
    public static partial void BackplaneAvailability(this ILogger logger, bool available);

    [LoggerMessage(2035, LogLevel.Warning, "Two nodes hold the registration '{Key}' with conflicting policies (this node's and '{Other}'); the backplane lost its claims meanwhile.")]
    public static partial void BackplaneClaimConflict(this ILogger logger, string key, string other);

    [LoggerMessage(2036, LogLevel.Warning, "Realm '{Realm}': node {Node} announced '{Uri}' with a policy that conflicts with the registration known here; ignored.")]
    public static partial void BackplaneRegistrationConflict(this ILogger logger, string realm, string uri, long node);
}
