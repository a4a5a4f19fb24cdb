namespace WampContracts.Router.Tests;

/// <summary>
/// Realms for authorization tests: sessions authenticate with a ticket that names the role they want (what a token
/// service would vouch for), or join anonymously with role <c>anonymous</c>.
/// </summary>
internal static class TestRealms
{
    /// <summary><paramref name="realm"/> accepting role tickets and anonymous sessions, its rules unchanged.</summary>
    public static WampRealmOptions WithRoleTickets(WampRealmOptions realm) => new()
    {
        Name = realm.Name,
        Roles = realm.Roles,
        AuthorizerTimeout = realm.AuthorizerTimeout,
        Authentication =
        [
            new WampTicketAuthenticator { Verify = static (authId, ticket, ct) => new(new WampPrincipal(authId, ticket)) },
            new WampAnonymousAuthenticator(),
        ],
    };

    /// <summary><paramref name="options"/> with every realm accepting role tickets.</summary>
    public static WampRouterOptions WithRoleTickets(WampRouterOptions options) => new()
    {
        Address = options.Address,
        Port = options.Port,
        TlsCertificate = options.TlsCertificate,
        TlsCertificateFile = options.TlsCertificateFile,
        TlsKeyFile = options.TlsKeyFile,
        AllowedOrigins = options.AllowedOrigins,
        AllowMissingOrigin = options.AllowMissingOrigin,
        KeepAliveInterval = options.KeepAliveInterval,
        KeepAliveTimeout = options.KeepAliveTimeout,
        Realms = options.Realms,
        MaxMessageSize = options.MaxMessageSize,
        MaxPendingInvocationsPerCallee = options.MaxPendingInvocationsPerCallee,
        MaxRegistrationsPerSession = options.MaxRegistrationsPerSession,
        MaxSubscriptionsPerSession = options.MaxSubscriptionsPerSession,
        MaxQueuedMessagesPerSession = options.MaxQueuedMessagesPerSession,
        MaxQueuedBytesPerSession = options.MaxQueuedBytesPerSession,
        MaxConnections = options.MaxConnections,
        MaxRealms = options.MaxRealms,
        HandshakeTimeout = options.HandshakeTimeout,
        Agent = options.Agent,
        TimeProvider = options.TimeProvider,
        LoggerFactory = options.LoggerFactory,
        RealmSettings = options.RealmSettings?.Select(WithRoleTickets).ToList(),
    };

    /// <summary>HELLO; with <paramref name="authRole"/>, offering a ticket naming that role (an open realm welcomes it anonymously).</summary>
    public static string Hello(string realm, string roles, string? authRole) => authRole is null
        ? $$"""[1, "{{realm}}", {"roles": {{roles}}}]"""
        : $$"""[1, "{{realm}}", {"authmethods": ["ticket", "anonymous"], "authid": "{{authRole}}-user", "roles": {{roles}}}]""";

    /// <summary>The AUTHENTICATE whose ticket names the role.</summary>
    public static string Authenticate(string authRole) => $$"""[5, "{{authRole}}", {}]""";
}
