using WampContracts.Protocol;

namespace WampContracts.Router.Core;

/// <summary>
/// The authorization rules of one configured realm, compiled once when the router starts (and checked then, so a
/// wrong rule fails at startup, not at the first request), and never changed afterwards. A realm that empties and is
/// created again gets the same instance, so lookups do not rely on the realm's lock (see <see cref="RoleRules.Decide"/>).
/// </summary>
internal sealed class RealmAuthorization
{
    private readonly Dictionary<string, RoleRules> _roles;

    private RealmAuthorization(Dictionary<string, RoleRules> roles, TimeSpan authorizerTimeout)
    {
        _roles = roles;
        AuthorizerTimeout = authorizerTimeout;
    }

    public TimeSpan AuthorizerTimeout { get; }

    /// <summary>The rules of <paramref name="authrole"/>; null for a role the realm does not list (it may do nothing).</summary>
    public RoleRules? Role(string authrole) => _roles.GetValueOrDefault(authrole);

    /// <summary>Compiles and checks a realm's roles; <see cref="ArgumentException"/> names the realm, role and rule at fault.</summary>
    public static RealmAuthorization Compile(WampRealmOptions realm)
    {
        if (realm.AuthorizerTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"Realm '{realm.Name}': AuthorizerTimeout must be positive.");
        var roles = new Dictionary<string, RoleRules>(StringComparer.Ordinal);
        foreach (var role in realm.Roles ?? [])
        {
            if (role is null || string.IsNullOrEmpty(role.Name))
                throw new ArgumentException($"Realm '{realm.Name}': a role without a name.");
            if (roles.ContainsKey(role.Name))
                throw new ArgumentException($"Realm '{realm.Name}': role '{role.Name}' is listed twice.");
            if (role.Authorizer is not null && role.Permissions is { Count: > 0 })
                throw new ArgumentException($"Realm '{realm.Name}', role '{role.Name}': a role has permissions or an authorizer, not both.");
            var rules = new RoleRules(role.Authorizer);
            int index = 0;
            foreach (var permission in role.Permissions ?? [])
            {
                if (permission is null)
                    throw new ArgumentException($"Realm '{realm.Name}', role '{role.Name}': permission {index} is null.");
                if (InvalidPermissionUri(permission.Uri, permission.Match) is { } problem)
                    throw new ArgumentException($"Realm '{realm.Name}', role '{role.Name}', permission {index}: {problem}");
                if (!rules.Add(permission, index))
                    throw new ArgumentException($"Realm '{realm.Name}', role '{role.Name}', permission {index}: '{permission.Uri}' ({permission.Match.ToString().ToLowerInvariant()}) has a rule already.");
                index++;
            }
            roles.Add(role.Name, rules);
        }
        return new RealmAuthorization(roles, realm.AuthorizerTimeout);
    }

    /// <summary>Why a rule's URI is not valid for its match policy; null when it is.</summary>
    public static string? InvalidPermissionUri(string? uri, WampMatch match)
    {
        if (uri is null) return "the URI is missing";
        bool valid = match switch
        {
            WampMatch.Prefix => uri.Length == 0 || WampUris.IsValidLoose(uri, allowEmptyLast: true),
            WampMatch.Wildcard => WampUris.IsValidLoose(uri, allowEmptyComponents: true),
            _ => WampUris.IsValidLoose(uri),
        };
        return valid ? null : $"'{RouterFrames.Quote(uri)}' is not a valid {match.ToString().ToLowerInvariant()} URI";
    }
}

/// <summary>A rule with its place in its role's index.</summary>
internal sealed class Rule(long id, WampPermission permission) : IUriEntry
{
    public long Id { get; } = id;
    public string Uri => Permission.Uri;
    public WampMatch Match => Permission.Match;
    public WampPermission Permission { get; } = permission;

    /// <summary>Crossbar.io's ranking of matching rules: exact, then wildcard, then prefix; within a kind the more specific.</summary>
    public bool OutranksForSameUri(Rule other)
    {
        if (Match != other.Match) return Kind(Match) > Kind(other.Match);
        return Match switch
        {
            WampMatch.Prefix => Uri.Length > other.Uri.Length,
            WampMatch.Wildcard => UriPatterns.CompareWildcards(Uri, other.Uri) > 0,
            _ => false,
        };

        static int Kind(WampMatch m) => m switch { WampMatch.Exact => 3, WampMatch.Wildcard => 2, _ => 1 };
    }
}

/// <summary>The verdict on one action: allowed or not, and for a call or publication whether the identity is disclosed.</summary>
internal readonly record struct Verdict(bool Allow, bool Disclose);

/// <summary>
/// The static rules of one role, or its dynamic authorizer. Rules live in two spaces: those whose URI is in the
/// protocol's reserved <c>wamp</c> namespace decide only reserved URIs (the session meta API), and the others only the
/// rest, so a broad rule (prefix <c>""</c>) never grants the meta API by accident.
/// </summary>
internal sealed class RoleRules(WampAuthorizer? authorizer)
{
    private readonly RuleSpace _normal = new();
    private readonly RuleSpace _reserved = new();

    // The indexes' lookups reuse a work list (WildcardTree), so one lookup at a time; uncontended but for a realm
    // that was emptied and created again while its last request was being decided.
    private readonly Lock _lookup = new();

    public WampAuthorizer? Authorizer { get; } = authorizer;

    public bool Add(WampPermission permission, int index)
    {
        var space = WampUris.IsReserved(permission.Uri) ? _reserved : _normal;
        if (space.Index.Find(permission.Uri, permission.Match) is not null) return false;
        var rule = new Rule(index + 1, permission);
        space.Index.Add(rule);
        space.Rules.Add(rule);
        return true;
    }

    /// <summary>
    /// Decides <paramref name="action"/> on a URI, or on a pattern (a registration or subscription with
    /// <c>match</c> prefix or wildcard): a pattern is allowed only when every URI it can match would be.
    /// </summary>
    public Verdict Decide(WampAction action, string uri, WampMatch match)
    {
        lock (_lookup) return DecideLocked(action, uri, match);
    }

    private Verdict DecideLocked(WampAction action, string uri, WampMatch match)
    {
        if (match == WampMatch.Exact || (match == WampMatch.Wildcard && !UriPatterns.HasWildcard(uri)))
        {
            var rule = (WampUris.IsReserved(uri) ? _reserved : _normal).MostSpecific(uri);
            return rule is null ? default : new Verdict(rule.Permission.Allows(action), Discloses(rule.Permission, action));
        }
        // The part of the pattern outside the reserved namespace, decided by the ordinary rules...
        if (HasUnreservedPart(uri) && !_normal.AllowsPattern(action, uri, match)) return default;
        // ...and for a subscription, the part inside it (no registration catches a call to a wamp. procedure).
        if (action == WampAction.Subscribe && ReservedPart(uri, match) is { } reserved)
        {
            bool allowed = reserved.Match == WampMatch.Exact || (reserved.Match == WampMatch.Wildcard && !UriPatterns.HasWildcard(reserved.Uri))
                ? _reserved.MostSpecific(reserved.Uri)?.Permission.Subscribe == true
                : _reserved.AllowsPattern(action, reserved.Uri, reserved.Match);
            if (!allowed) return default;
        }
        return new Verdict(true, false);
    }

    private static bool Discloses(WampPermission p, WampAction action) => action switch
    {
        WampAction.Call => p.DiscloseCaller,
        WampAction.Publish => p.DisclosePublisher,
        _ => false,
    };

    private const string ReservedLead = "wamp.";

    // A pattern that starts with wamp. matches only reserved URIs; any other also matches some that are not.
    private static bool HasUnreservedPart(string pattern) => !pattern.StartsWith(ReservedLead, StringComparison.Ordinal);

    /// <summary>The URIs under <c>wamp.</c> that a pattern matches, as a pattern; null when there are none.</summary>
    private static (string Uri, WampMatch Match)? ReservedPart(string pattern, WampMatch match)
    {
        if (pattern.StartsWith(ReservedLead, StringComparison.Ordinal)) return (pattern, match);
        if (match == WampMatch.Prefix)
            return ReservedLead.StartsWith(pattern, StringComparison.Ordinal) ? (ReservedLead, WampMatch.Prefix) : null;
        // A wildcard: only one whose first component is a wildcard (and which has a second) reaches wamp.…
        return pattern.Length > 0 && pattern[0] == '.' ? ("wamp" + pattern, WampMatch.Wildcard) : null;
    }

    /// <summary>The rules of one space: indexed for single URIs, listed for patterns (roles have few rules).</summary>
    private sealed class RuleSpace
    {
        public readonly UriIndex<Rule> Index = new();
        public readonly List<Rule> Rules = new();

        /// <summary>The rule that decides for one URI: exact, else the most specific wildcard, else the longest prefix.</summary>
        public Rule? MostSpecific(string uri) => Index.Exact(uri) ?? Index.MostSpecificWildcard(uri) ?? Index.LongestPrefix(uri);

        /// <summary>
        /// Whether a pattern lies wholly within rules that allow <paramref name="action"/>: the most specific rule that
        /// covers all of it allows it, and so does every rule that outranks that one and matches part of it. (A rule
        /// outranking it only where a still more specific rule decides is counted too: the check errs on denying.)
        /// </summary>
        public bool AllowsPattern(WampAction action, string pattern, WampMatch match)
        {
            var cover = match == WampMatch.Prefix
                ? Index.LongestPrefix(pattern)
                : MostSpecificCoveringWildcard(pattern) ?? Index.LongestPrefix(UriPatterns.LiteralLead(pattern));
            if (cover is null || !cover.Permission.Allows(action)) return false;
            foreach (var rule in Rules)
            {
                if (rule == cover || rule.Permission.Allows(action) || !rule.OutranksForSameUri(cover)) continue;
                if (UriPatterns.Overlaps(rule.Uri, rule.Match, pattern, match)) return false;
            }
            return true;
        }

        private Rule? MostSpecificCoveringWildcard(string pattern)
        {
            Rule? best = null;
            foreach (var rule in Rules)
            {
                if (rule.Match != WampMatch.Wildcard || !UriPatterns.WildcardCovers(rule.Uri, pattern)) continue;
                if (best is null || UriPatterns.CompareWildcards(rule.Uri, best.Uri) > 0) best = rule;
            }
            return best;
        }
    }
}
