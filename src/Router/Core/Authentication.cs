using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Core;

/// <summary>What an authenticator knows of a HELLO that chose its method.</summary>
internal sealed class AuthRequest
{
    public required string Realm { get; init; }
    public required long SessionId { get; init; }
    /// <summary>The requested authid; null when HELLO names none.</summary>
    public required string? AuthId { get; init; }
    public required WampDict AuthExtra { get; init; }
    public required TimeProvider TimeProvider { get; init; }
}

/// <summary>An authenticated identity and who vouched for it (<c>static</c> table or <c>dynamic</c> callback).</summary>
internal readonly record struct AuthResult(WampPrincipal Principal, string Provider);

/// <summary>An authenticator's answer to HELLO: WELCOME at once, a CHALLENGE, or ABORT.</summary>
internal readonly struct AuthStart
{
    public AuthResult? Welcomed { get; private init; }
    public AuthChallenge? Challenged { get; private init; }
    public (string Reason, string Message)? Refused { get; private init; }

    public static AuthStart Welcome(WampPrincipal principal, string provider) => new() { Welcomed = new AuthResult(principal, provider) };
    public static AuthStart Challenge(AuthChallenge challenge) => new() { Challenged = challenge };
    public static AuthStart Refuse(string reason, string message) => new() { Refused = (reason, message) };
}

/// <summary>
/// One pending challenge: what CHALLENGE.Extra carries, and the check of the AUTHENTICATE that answers it. An unknown
/// authid gets a challenge just like a known one and fails only at AUTHENTICATE, so nothing tells which part was wrong.
/// </summary>
internal abstract class AuthChallenge
{
    public abstract void WriteExtra(Utf8JsonWriter w);

    /// <summary>The identity, or null when the signature is wrong (or the principal unknown).</summary>
    public abstract ValueTask<AuthResult?> VerifyAsync(string signature, CancellationToken cancellationToken);

    /// <summary>
    /// Compares two secrets in constant time, whatever their lengths (their SHA-256 digests are compared, so neither
    /// a mismatch's position nor the expected length shows in the timing).
    /// </summary>
    public static bool SecretEquals(string expected, string actual)
    {
        Span<byte> a = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> b = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(actual), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }
}

internal sealed class TicketChallenge(WampTicketAuthenticator authenticator, string authId) : AuthChallenge
{
    // Compared against when the authid is unknown, so a miss costs the same as a wrong ticket.
    private static readonly string Unmatchable = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public override void WriteExtra(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteEndObject();
    }

    public override async ValueTask<AuthResult?> VerifyAsync(string ticket, CancellationToken cancellationToken)
    {
        if (authenticator.Principals?.TryGetValue(authId, out var p) == true)
            return SecretEquals(p.Ticket, ticket) ? new AuthResult(new WampPrincipal(authId, p.Role), "static") : null;
        if (authenticator.Verify is { } verify)
            return await verify(authId, ticket, cancellationToken).ConfigureAwait(false) is { } principal ? new AuthResult(principal, "dynamic") : null;
        SecretEquals(Unmatchable, ticket);
        return null;
    }
}

internal sealed class WampCraChallenge : AuthChallenge
{
    // The key random decoy principals are signed with: nobody can answer their challenges.
    private static readonly byte[] DecoyKey = RandomNumberGenerator.GetBytes(32);

    private readonly string _challenge;
    private readonly string _expected;
    private readonly WampCraPrincipal _principal;
    private readonly AuthResult? _result;

    private WampCraChallenge(string challenge, WampCraPrincipal principal, AuthResult? result)
    {
        _challenge = challenge;
        _principal = principal;
        _expected = WampCra.Sign(principal.Secret, challenge);
        _result = result;
    }

    public static async ValueTask<AuthStart> StartAsync(WampCraAuthenticator authenticator, AuthRequest request, CancellationToken cancellationToken)
    {
        if (request.AuthId is not { } authId) return AuthStart.Refuse(WampUris.NotAuthorized, "wampcra authentication needs an authid");
        WampCraPrincipal? principal = null;
        string provider = "static";
        if (authenticator.Principals?.TryGetValue(authId, out var known) == true)
        {
            principal = known;
        }
        else if (authenticator.Lookup is { } lookup)
        {
            principal = await lookup(authId, cancellationToken).ConfigureAwait(false);
            provider = "dynamic";
        }
        AuthResult? result = principal is null ? null : new AuthResult(new WampPrincipal(authId, principal.Role), provider);
        principal ??= Decoy(authenticator, authId);
        string challenge = Challenge(authId, principal.Role, provider, request);
        return AuthStart.Challenge(new WampCraChallenge(challenge, principal, result));
    }

    /// <summary>
    /// A stand-in for an unknown authid that looks like the table's principals: salted with a salt derived from the
    /// authid (the same at every try) when the table's are salted, and with the first principal's role.
    /// </summary>
    private static WampCraPrincipal Decoy(WampCraAuthenticator authenticator, string authId)
    {
        var model = authenticator.Principals?.Values.FirstOrDefault();
        string secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var decoy = new WampCraPrincipal(secret, model?.Role ?? "user");
        if (model?.Salt is null) return decoy;
        string salt = Convert.ToBase64String(HMACSHA256.HashData(DecoyKey, Encoding.UTF8.GetBytes(authId)))[..Math.Max(1, Math.Min(43, model.Salt.Length))];
        return decoy with { Salt = salt, Iterations = model.Iterations, KeyLength = model.KeyLength };
    }

    /// <summary>The challenge text: a JSON object, as Crossbar.io writes it, sent as a string and signed as sent.</summary>
    private static string Challenge(string authId, string role, string provider, AuthRequest request)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("authid"u8, authId);
            w.WriteString("authrole"u8, role);
            w.WriteString("authmethod"u8, "wampcra");
            w.WriteString("authprovider"u8, provider);
            w.WriteNumber("session"u8, request.SessionId);
            w.WriteString("nonce"u8, Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)));
            w.WriteString("timestamp"u8, request.TimeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public override void WriteExtra(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("challenge"u8, _challenge);
        if (_principal.Salt is not null)
        {
            w.WriteString("salt"u8, _principal.Salt);
            w.WriteNumber("iterations"u8, _principal.Iterations);
            w.WriteNumber("keylen"u8, _principal.KeyLength);
        }
        w.WriteEndObject();
    }

    public override ValueTask<AuthResult?> VerifyAsync(string signature, CancellationToken cancellationToken) =>
        new(SecretEquals(_expected, signature) && _result is not null ? _result : null);
}

internal sealed class CryptosignChallenge : AuthChallenge
{
    private readonly byte[] _challenge = RandomNumberGenerator.GetBytes(WampCryptosignKey.ChallengeLength);
    private readonly byte[] _publicKey;
    private readonly AuthResult? _result;

    private CryptosignChallenge(byte[] publicKey, AuthResult? result)
    {
        _publicKey = publicKey;
        _result = result;
    }

    public static async ValueTask<AuthStart> StartAsync(WampCryptosignAuthenticator authenticator, AuthRequest request, CancellationToken cancellationToken)
    {
        string? pubkey = request.AuthExtra.GetString("pubkey"u8);
        if (!WampCryptosignKey.TryParsePublicKey(pubkey, out byte[] publicKey))
            return AuthStart.Refuse(WampUris.NotAuthorized, "cryptosign authentication needs authextra.pubkey: the Ed25519 public key, 64 hex characters");
        if (request.AuthExtra.TryFind("channel_binding"u8, out var binding) && binding.TokenType != JsonTokenType.Null)
            return AuthStart.Refuse(WampUris.NotAuthorized, "cryptosign with TLS channel binding is not supported by this router");
        AuthResult? result = null;
        if (authenticator.TryFind(pubkey!, request.AuthId, out string authId, out string role))
            result = new AuthResult(new WampPrincipal(authId, role), "static");
        else if (authenticator.Lookup is { } lookup && await lookup(pubkey!.ToLowerInvariant(), request.AuthId, cancellationToken).ConfigureAwait(false) is { } principal)
            result = new AuthResult(principal, "dynamic");
        // An unknown key is challenged too, and refused at AUTHENTICATE.
        return AuthStart.Challenge(new CryptosignChallenge(publicKey, result));
    }

    public override void WriteExtra(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("challenge"u8, Convert.ToHexStringLower(_challenge));
        w.WriteNull("channel_binding"u8);
        w.WriteEndObject();
    }

    public override ValueTask<AuthResult?> VerifyAsync(string signature, CancellationToken cancellationToken) =>
        new(WampCryptosignKey.VerifySignedMessage(_publicKey, _challenge, signature) && _result is not null ? _result : null);
}
