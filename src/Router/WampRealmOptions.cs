namespace WampContracts.Router;

/// <summary>
/// The settings of one realm served by a <see cref="WampRouter"/>: who may join it and how (authentication), and
/// what each role may do in it (authorization). See docs/security.md.
/// </summary>
public sealed class WampRealmOptions
{
    /// <summary>The realm's URI.</summary>
    public required string Name { get; init; }

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
