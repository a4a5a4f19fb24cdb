namespace WampContracts.Router;

/// <summary>
/// The settings of one realm served by a <see cref="WampRouter"/>: who may join it and how (authentication), and
/// what each role may do in it (authorization). See docs/security.md.
/// </summary>
public sealed class WampRealmOptions
{
    /// <summary>The realm's URI.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The authentication methods the realm accepts; a HELLO gets the first of its <c>authmethods</c> (in the client's
    /// order) that is listed here, and <c>wamp.error.no_matching_auth_method</c> when none is. Null (the default):
    /// anonymous sessions only, with role <c>anonymous</c>. Anonymous access is otherwise allowed only where a
    /// <see cref="WampAnonymousAuthenticator"/> is listed. See docs/security.md.
    /// </summary>
    public IReadOnlyList<WampAuthenticator>? Authentication { get; init; }

    internal void ValidateAuthentication()
    {
        if (Authentication is null) return;
        if (Authentication.Count == 0)
            throw new ArgumentException($"Realm '{Name}' lists no authentication method: nobody could join it (leave Authentication null for anonymous access).");
        var methods = new HashSet<string>(StringComparer.Ordinal);
        foreach (var authenticator in Authentication)
        {
            ArgumentNullException.ThrowIfNull(authenticator, nameof(Authentication));
            if (!methods.Add(authenticator.AuthMethod))
                throw new ArgumentException($"Realm '{Name}' lists the '{authenticator.AuthMethod}' authentication method twice.");
            authenticator.Validate(Name);
        }
    }

    // Authorization (docs/security.md, "Authorization").

    /// <summary>
    /// What each <c>authrole</c> may do. A session whose role is not listed, or whose role has no rule for an action
    /// and URI, is refused it (<c>wamp.error.not_authorized</c>). URIs starting with <c>wamp.</c> (the session meta
    /// API) are granted only by rules whose own URI starts with <c>wamp.</c>.
    /// </summary>
    public IReadOnlyList<WampRole> Roles { get; init; } = [];

    /// <summary>Bound on one answer of a role's <see cref="WampRole.Authorizer"/>; past it the action is denied. Default 5 s.</summary>
    public TimeSpan AuthorizerTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
