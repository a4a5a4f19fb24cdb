using System.Text.Json;

namespace WampContracts.Router;

/// <summary>What a session asks the router to let it do (Crossbar.io's authorization actions).</summary>
public enum WampAction
{
    Call,
    Register,
    Publish,
    Subscribe,
}

/// <summary>
/// A role of a configured realm (<see cref="WampRealmOptions.Roles"/>): what sessions with this <c>authrole</c> may do,
/// either by static <see cref="Permissions"/> or by a dynamic <see cref="Authorizer"/> (one or the other, as in a
/// Crossbar.io role). A role with neither may do nothing. See docs/security.md.
/// </summary>
public sealed class WampRole
{
    /// <summary>The <c>authrole</c> this role applies to.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Rules on URI patterns. For each action the most specific rule that matches the URI decides (exact, then
    /// wildcard, then the longest prefix, as Crossbar.io ranks them); no matching rule denies.
    /// </summary>
    public IReadOnlyList<WampPermission> Permissions { get; init; } = [];

    /// <summary>
    /// Decides every action of this role instead of <see cref="Permissions"/>. Bounded by
    /// <see cref="WampRealmOptions.AuthorizerTimeout"/>; a throw or a timeout denies with
    /// <c>wamp.error.authorization_failed</c>.
    /// </summary>
    public WampAuthorizer? Authorizer { get; init; }
}

/// <summary>
/// One rule of a <see cref="WampRole"/>: a URI pattern (Crossbar.io's <c>uri</c> and <c>match</c>), the actions it
/// allows (<c>allow</c>) and whether it discloses the caller or publisher (<c>disclose</c>). Actions not allowed are
/// denied: a more specific rule that allows nothing carves an exception out of a broader one.
/// </summary>
/// <param name="Uri">The URI, or the pattern: a prefix (<c>com.bank.</c>; <c>""</c> matches everything) or a wildcard
/// (<c>com..transfer</c>, an empty component matching any one component).</param>
/// <param name="Match">How <paramref name="Uri"/> matches.</param>
public sealed record WampPermission(string Uri, WampMatch Match = WampMatch.Exact)
{
    /// <summary>May call the procedures the rule matches.</summary>
    public bool Call { get; init; }

    /// <summary>May register them (a pattern registration must lie wholly within rules that allow it).</summary>
    public bool Register { get; init; }

    /// <summary>May publish to the topics the rule matches.</summary>
    public bool Publish { get; init; }

    /// <summary>May subscribe to them (a pattern subscription must lie wholly within rules that allow it).</summary>
    public bool Subscribe { get; init; }

    /// <summary>A call this rule allows discloses the caller (session, authid, authrole) to the callee; without it the caller is never disclosed.</summary>
    public bool DiscloseCaller { get; init; }

    /// <summary>A publication this rule allows discloses the publisher to the subscribers; without it the publisher is never disclosed.</summary>
    public bool DisclosePublisher { get; init; }

    /// <summary>Whether the rule allows <paramref name="action"/>.</summary>
    public bool Allows(WampAction action) => action switch
    {
        WampAction.Call => Call,
        WampAction.Register => Register,
        WampAction.Publish => Publish,
        _ => Subscribe,
    };
}

/// <summary>One action for a dynamic <see cref="WampAuthorizer"/> to decide.</summary>
public sealed class WampAuthorizationRequest
{
    public required string Realm { get; init; }

    public required long SessionId { get; init; }

    public required string AuthId { get; init; }

    public required string AuthRole { get; init; }

    public required WampAction Action { get; init; }

    /// <summary>The procedure or topic; for a pattern registration or subscription, the pattern.</summary>
    public required string Uri { get; init; }

    /// <summary>How <see cref="Uri"/> matches: always exact for call and publish. An authorizer that allows a pattern allows every URI it matches.</summary>
    public required WampMatch Match { get; init; }

    /// <summary>The request's <c>Options</c> dictionary, as sent.</summary>
    public required JsonElement Options { get; init; }
}

/// <summary>A dynamic authorizer's answer (Crossbar.io's <c>{"allow": …, "disclose": …}</c>).</summary>
/// <param name="Allow">Whether the action is allowed.</param>
/// <param name="Disclose">For an allowed call or publication: whether the caller or publisher is disclosed.</param>
public readonly record struct WampAuthorization(bool Allow, bool Disclose = false)
{
    public static WampAuthorization Allowed => new(true);

    public static WampAuthorization Denied => new(false);
}

/// <summary>
/// Custom authorization logic for a <see cref="WampRole"/>. It runs before the action, and the session's later
/// messages wait for it (so they keep their order); it is bounded by <see cref="WampRealmOptions.AuthorizerTimeout"/>,
/// after which <paramref name="cancellationToken"/> is canceled and the action is denied.
/// </summary>
public delegate ValueTask<WampAuthorization> WampAuthorizer(WampAuthorizationRequest request, CancellationToken cancellationToken);
