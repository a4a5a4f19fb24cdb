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
}
