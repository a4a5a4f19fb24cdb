using System.Text.Json.Nodes;
using WampContracts.Router.Core;

namespace WampContracts.Router;

/// <summary>
/// Who a session is once authenticated: its <c>authid</c> and the <c>authrole</c> the router grants (what the role may
/// do is the realm's authorization). <see cref="AuthExtra"/>, when set, goes to the client in <c>WELCOME.Details.authextra</c>.
/// </summary>
public sealed record WampPrincipal(string AuthId, string AuthRole)
{
    public JsonObject? AuthExtra { get; init; }
}

/// <summary>
/// One authentication method a realm accepts (<see cref="WampRealmOptions.Authentication"/>), with how it verifies
/// credentials and which role it grants. The built-in methods: <see cref="WampAnonymousAuthenticator"/>,
/// <see cref="WampTicketAuthenticator"/>, <see cref="WampCraAuthenticator"/>, <see cref="WampCryptosignAuthenticator"/>;
/// each takes a static table, a callback of yours, or both. See docs/security.md.
/// </summary>
public abstract class WampAuthenticator
{
    private protected WampAuthenticator(string authMethod) => AuthMethod = authMethod;

    /// <summary>The method's name in HELLO's <c>authmethods</c> and WELCOME's <c>authmethod</c>.</summary>
    public string AuthMethod { get; }

    /// <summary>Throws when the authenticator cannot work as configured (checked when the router starts).</summary>
    internal abstract void Validate(string realm);

    /// <summary>Answers a HELLO that chose this method: welcome at once, challenge, or refuse.</summary>
    internal abstract ValueTask<AuthStart> StartAsync(AuthRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// <c>anonymous</c>: anyone may join, with <see cref="Role"/> and an <c>authid</c> the router makes up (a requested
/// <c>authid</c> is ignored). Only realms that list it accept anonymous sessions.
/// </summary>
public sealed class WampAnonymousAuthenticator() : WampAuthenticator("anonymous")
{
    /// <summary>The role anonymous sessions get. Default <c>anonymous</c>.</summary>
    public string Role { get; init; } = "anonymous";

    internal override void Validate(string realm) => ArgumentException.ThrowIfNullOrEmpty(Role, $"{nameof(WampAnonymousAuthenticator)}.{nameof(Role)}");

    internal override ValueTask<AuthStart> StartAsync(AuthRequest request, CancellationToken cancellationToken) =>
        new(AuthStart.Welcome(new WampPrincipal(AnonymousAuthId(request.SessionId), Role), "static"));

    internal static string AnonymousAuthId(long sessionId) => "anonymous-" + sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A ticket principal of a static table: its ticket (password or token) and role.</summary>
public sealed record WampTicketPrincipal(string Ticket, string Role)
{
    // The ticket stays out of what a log would print.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Role = ").Append(Role);
        return true;
    }
}

/// <summary>
/// <c>ticket</c>: the client sends a ticket (password or token) in clear text — use it over TLS only. Verified
/// against <see cref="Principals"/> (authid → ticket and role), then, for authids not in it, by <see cref="Verify"/>.
/// </summary>
public sealed class WampTicketAuthenticator() : WampAuthenticator("ticket")
{
    /// <summary>A static table: authid → ticket and role (<c>authprovider</c> <c>static</c>).</summary>
    public IReadOnlyDictionary<string, WampTicketPrincipal>? Principals { get; init; }

    /// <summary>
    /// Your verifier, <c>(authid, ticket, ct) =&gt; principal or null</c> (<c>authprovider</c> <c>dynamic</c>): null
    /// refuses. It may name another authid than the one asked for. Bounded by the router's <c>HandshakeTimeout</c>.
    /// </summary>
    public Func<string, string, CancellationToken, ValueTask<WampPrincipal?>>? Verify { get; init; }

    internal override void Validate(string realm)
    {
        if (Principals is null && Verify is null)
            throw new ArgumentException($"The ticket authenticator of realm '{realm}' has neither Principals nor Verify.");
    }

    internal override ValueTask<AuthStart> StartAsync(AuthRequest request, CancellationToken cancellationToken) =>
        new(request.AuthId is null
            ? AuthStart.Refuse(Protocol.WampUris.NotAuthorized, "ticket authentication needs an authid")
            : AuthStart.Challenge(new TicketChallenge(this, request.AuthId)));
}

/// <summary>
/// A WAMP-CRA principal: its role and secret. With <see cref="Salt"/>, <see cref="Secret"/> is the derived key as
/// Crossbar.io keeps it (<see cref="WampCra.DeriveKey"/> of the password), and the challenge tells the client the salt,
/// iterations and key length to derive the same key; build one from the password with <see cref="FromPassword"/>.
/// </summary>
public sealed record WampCraPrincipal(string Secret, string Role)
{
    // The secret stays out of what a log would print.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Role = ").Append(Role).Append(", Salted = ").Append(Salt is not null);
        return true;
    }

    public string? Salt { get; init; }
    public int Iterations { get; init; } = WampCra.DefaultIterations;
    public int KeyLength { get; init; } = WampCra.DefaultKeyLength;

    /// <summary>A salted principal from its password: only the derived key is kept.</summary>
    public static WampCraPrincipal FromPassword(string password, string role, string salt, int iterations = WampCra.DefaultIterations, int keyLength = WampCra.DefaultKeyLength) =>
        new(WampCra.DeriveKey(password, salt, iterations, keyLength), role) { Salt = salt, Iterations = iterations, KeyLength = keyLength };
}

/// <summary>
/// <c>wampcra</c>: challenge-response with a shared secret (the secret never crosses the wire). Principals come from
/// <see cref="Principals"/> (authid → secret and role), then, for authids not in it, from <see cref="Lookup"/>.
/// </summary>
public sealed class WampCraAuthenticator() : WampAuthenticator("wampcra")
{
    /// <summary>A static table: authid → secret (or salted key) and role (<c>authprovider</c> <c>static</c>).</summary>
    public IReadOnlyDictionary<string, WampCraPrincipal>? Principals { get; init; }

    /// <summary>
    /// Your look-up, <c>(authid, ct) =&gt; principal or null</c> (<c>authprovider</c> <c>dynamic</c>), asked at HELLO.
    /// Bounded by the router's <c>HandshakeTimeout</c>.
    /// </summary>
    public Func<string, CancellationToken, ValueTask<WampCraPrincipal?>>? Lookup { get; init; }

    internal override void Validate(string realm)
    {
        if (Principals is null && Lookup is null)
            throw new ArgumentException($"The wampcra authenticator of realm '{realm}' has neither Principals nor Lookup.");
        foreach (var (authId, p) in Principals ?? new Dictionary<string, WampCraPrincipal>())
        {
            if (p.Salt is not null && (p.Iterations < 1 || p.KeyLength < 1))
                throw new ArgumentException($"The wampcra principal '{authId}' of realm '{realm}' needs positive Iterations and KeyLength.");
        }
    }

    internal override ValueTask<AuthStart> StartAsync(AuthRequest request, CancellationToken cancellationToken) =>
        WampCraChallenge.StartAsync(this, request, cancellationToken);
}

/// <summary>A cryptosign principal of a static table: the public keys (64 hex characters each) it may sign with, and its role.</summary>
public sealed record WampCryptosignPrincipal(IReadOnlyList<string> AuthorizedKeys, string Role);

/// <summary>
/// <c>cryptosign</c>: the client proves it holds the Ed25519 private key of the public key it announces in
/// <c>authextra.pubkey</c>. Principals come from <see cref="Principals"/> (authid → authorized keys and role; a HELLO
/// without authid is matched by its key), then from <see cref="Lookup"/>.
/// </summary>
public sealed class WampCryptosignAuthenticator() : WampAuthenticator("cryptosign")
{
    private Dictionary<string, (string AuthId, string Role)>? _byKey;

    /// <summary>A static table: authid → authorized public keys and role (<c>authprovider</c> <c>static</c>).</summary>
    public IReadOnlyDictionary<string, WampCryptosignPrincipal>? Principals { get; init; }

    /// <summary>
    /// Your look-up, <c>(pubkey hex, requested authid or null, ct) =&gt; principal or null</c> (<c>authprovider</c>
    /// <c>dynamic</c>), asked at HELLO for keys not in <see cref="Principals"/>. Bounded by the router's <c>HandshakeTimeout</c>.
    /// </summary>
    public Func<string, string?, CancellationToken, ValueTask<WampPrincipal?>>? Lookup { get; init; }

    internal override void Validate(string realm)
    {
        if (Principals is null && Lookup is null)
            throw new ArgumentException($"The cryptosign authenticator of realm '{realm}' has neither Principals nor Lookup.");
        var byKey = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (authId, p) in Principals ?? new Dictionary<string, WampCryptosignPrincipal>())
        {
            foreach (var key in p.AuthorizedKeys)
            {
                if (!WampCryptosignKey.TryParsePublicKey(key, out _))
                    throw new ArgumentException($"The cryptosign principal '{authId}' of realm '{realm}' lists '{key}', which is not a public key (64 hex characters).");
                if (!byKey.TryAdd(key, (authId, p.Role)))
                    throw new ArgumentException($"The public key '{key}' is authorized for two principals of realm '{realm}'.");
            }
        }
        _byKey = byKey;
    }

    /// <summary>The static principal that <paramref name="publicKeyHex"/> belongs to (and that <paramref name="authId"/>, when given, names).</summary>
    internal bool TryFind(string publicKeyHex, string? authId, out string foundAuthId, out string role)
    {
        (foundAuthId, role) = ("", "");
        if (_byKey is null || !_byKey.TryGetValue(publicKeyHex, out var p)) return false;
        if (authId is not null && authId != p.AuthId) return false;
        (foundAuthId, role) = p;
        return true;
    }

    internal override ValueTask<AuthStart> StartAsync(AuthRequest request, CancellationToken cancellationToken) =>
        CryptosignChallenge.StartAsync(this, request, cancellationToken);
}
