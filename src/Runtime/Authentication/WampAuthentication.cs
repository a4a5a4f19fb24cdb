using System.Text.Json;
using System.Text.Json.Nodes;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>
/// How a session authenticates when it joins (and again at every reconnection): the identity it asks for and the
/// methods it offers, in order of preference. See docs/security.md.
/// </summary>
/// <example>
/// <code>
/// Authentication = new WampAuthentication
/// {
///     AuthId = "joe",
///     Methods = [WampCredential.Cryptosign(key), WampCredential.Ticket(ct => tokens.GetAsync(ct))],
/// }
/// </code>
/// </example>
public sealed class WampAuthentication
{
    /// <summary>The identity to authenticate as (<c>HELLO.Details.authid</c>); ticket and WAMP-CRA need one.</summary>
    public string? AuthId { get; init; }

    /// <summary>The role asked for (<c>HELLO.Details.authrole</c>); the router decides the role it grants.</summary>
    public string? AuthRole { get; init; }

    /// <summary>Method-specific data sent as <c>HELLO.Details.authextra</c> (cryptosign adds <c>pubkey</c> itself).</summary>
    public JsonObject? AuthExtra { get; init; }

    /// <summary>
    /// The methods offered, in order of preference (<c>HELLO.Details.authmethods</c>); the router picks the first it
    /// accepts. Each method at most once.
    /// </summary>
    public required IReadOnlyList<WampCredential> Methods { get; init; }

    internal void Validate()
    {
        if (Methods is null || Methods.Count == 0)
            throw new ArgumentException("WampAuthentication.Methods must offer at least one method.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in Methods)
        {
            ArgumentNullException.ThrowIfNull(m, nameof(Methods));
            if (!seen.Add(m.AuthMethod))
                throw new ArgumentException($"WampAuthentication.Methods offers '{m.AuthMethod}' twice.");
            if (m.NeedsAuthId && string.IsNullOrEmpty(AuthId))
                throw new ArgumentException($"'{m.AuthMethod}' authentication needs WampAuthentication.AuthId.");
        }
    }
}

/// <summary>A CHALLENGE from the router: the method it runs and the method-specific data (<c>CHALLENGE.Extra</c>).</summary>
public readonly record struct WampChallenge(string AuthMethod, WampDict Extra);

/// <summary>
/// One authentication method a session offers, with the means to answer its CHALLENGE. Credentials given as
/// callbacks are asked again at every join, so a reconnecting session can present a fresh token.
/// </summary>
public abstract class WampCredential
{
    private protected WampCredential(string authMethod) => AuthMethod = authMethod;

    /// <summary>The method's name in <c>authmethods</c>: <c>anonymous</c>, <c>ticket</c>, <c>wampcra</c>, <c>cryptosign</c>, ...</summary>
    public string AuthMethod { get; }

    internal virtual bool NeedsAuthId => false;

    /// <summary>Gets what the handshake needs before HELLO (cryptosign: the key, whose public half HELLO carries).</summary>
    internal virtual ValueTask<Responder> PrepareAsync(CancellationToken cancellationToken) => new(new Responder(this));

    /// <summary>The AUTHENTICATE signature for <paramref name="challenge"/>.</summary>
    private protected abstract ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken);

    /// <summary>Anonymous access: no challenge, no secret.</summary>
    public static WampCredential Anonymous { get; } = new AnonymousCredential();

    /// <summary>Ticket authentication with a fixed ticket (a password or token, sent in clear: use TLS).</summary>
    public static WampCredential Ticket(string ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return new TicketCredential(_ => new(ticket));
    }

    /// <summary>Ticket authentication with a ticket fetched at every CHALLENGE (e.g. a token refreshed before it expires).</summary>
    public static WampCredential Ticket(Func<CancellationToken, ValueTask<string>> ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return new TicketCredential(ticket);
    }

    /// <summary>WAMP-CRA with a fixed secret (salted keys are derived as the challenge says).</summary>
    public static WampCredential WampCra(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return new WampCraCredential(_ => new(secret));
    }

    /// <summary>WAMP-CRA with a secret fetched at every CHALLENGE.</summary>
    public static WampCredential WampCra(Func<CancellationToken, ValueTask<string>> secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return new WampCraCredential(secret);
    }

    /// <summary>WAMP-cryptosign with a key pair the application owns (and disposes).</summary>
    public static WampCredential Cryptosign(WampCryptosignKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new CryptosignCredential(_ => new(key));
    }

    /// <summary>WAMP-cryptosign with a key pair fetched at every join, before HELLO (HELLO carries its public key).</summary>
    public static WampCredential Cryptosign(Func<CancellationToken, ValueTask<WampCryptosignKey>> key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new CryptosignCredential(key);
    }

    /// <summary>
    /// A method of your own (or a variant, such as WAMP-CRA answered by a third party): <paramref name="respond"/>
    /// gets the CHALLENGE and returns the AUTHENTICATE signature.
    /// </summary>
    public static WampCredential Custom(string authMethod, Func<WampChallenge, CancellationToken, ValueTask<string>> respond)
    {
        ArgumentException.ThrowIfNullOrEmpty(authMethod);
        ArgumentNullException.ThrowIfNull(respond);
        return new CustomCredential(authMethod, respond);
    }

    /// <summary>A credential made ready for one handshake.</summary>
    internal class Responder(WampCredential credential)
    {
        public WampCredential Credential { get; } = credential;

        /// <summary>Adds what the method announces in <c>HELLO.Details.authextra</c>.</summary>
        public virtual void AddAuthExtra(JsonObject authExtra)
        {
        }

        public virtual ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken) =>
            Credential.RespondAsync(challenge, cancellationToken);
    }

    private sealed class AnonymousCredential() : WampCredential("anonymous")
    {
        private protected override ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken) =>
            throw new WampAuthenticationException(WampAuthenticationException.CannotAuthenticate, "anonymous", "The router sent a CHALLENGE for 'anonymous', which has none.");
    }

    private sealed class TicketCredential(Func<CancellationToken, ValueTask<string>> ticket) : WampCredential("ticket")
    {
        internal override bool NeedsAuthId => true;

        private protected override async ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken) =>
            await ticket(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The ticket callback returned null.");
    }

    private sealed class WampCraCredential(Func<CancellationToken, ValueTask<string>> secret) : WampCredential("wampcra")
    {
        internal override bool NeedsAuthId => true;

        private protected override async ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken)
        {
            var extra = challenge.Extra;
            string text = extra.GetString("challenge"u8) ?? throw Malformed("CHALLENGE.Extra.challenge must be a string");
            string key = await secret(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The WAMP-CRA secret callback returned null.");
            if (extra.TryFind("salt"u8, out var salt) && salt.TokenType != JsonTokenType.Null)
            {
                if (salt.TokenType != JsonTokenType.String) throw Malformed("CHALLENGE.Extra.salt must be a string");
                int iterations = ReadInt(extra, "iterations"u8, global::WampContracts.WampCra.DefaultIterations, global::WampContracts.WampCra.MaxIterations);
                int keyLength = ReadInt(extra, "keylen"u8, global::WampContracts.WampCra.DefaultKeyLength, global::WampContracts.WampCra.MaxKeyLength);
                key = global::WampContracts.WampCra.DeriveKey(key, salt.GetString()!, iterations, keyLength);
            }
            return global::WampContracts.WampCra.Sign(key, text);
        }

        private static int ReadInt(WampDict extra, ReadOnlySpan<byte> name, int defaultValue, int max)
        {
            if (!extra.TryFind(name, out var r) || r.TokenType == JsonTokenType.Null) return defaultValue;
            if (r.TokenType != JsonTokenType.Number || !r.TryGetInt32(out int value) || value < 1 || value > max)
                throw Malformed($"CHALLENGE.Extra.{System.Text.Encoding.UTF8.GetString(name)} must be an integer from 1 to {max}");
            return value;
        }
    }

    private sealed class CryptosignCredential(Func<CancellationToken, ValueTask<WampCryptosignKey>> key) : WampCredential("cryptosign")
    {
        internal override async ValueTask<Responder> PrepareAsync(CancellationToken cancellationToken) =>
            new KeyResponder(this, await key(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The cryptosign key callback returned null."));

        private protected override ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A cryptosign credential answers through its prepared key.");

        private sealed class KeyResponder(WampCredential credential, WampCryptosignKey key) : Responder(credential)
        {
            public override void AddAuthExtra(JsonObject authExtra) => authExtra["pubkey"] = key.PublicKeyHex;

            public override ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken)
            {
                var extra = challenge.Extra;
                // Channel binding is never asked for in HELLO, so a router that binds anyway cannot be answered.
                if (extra.TryFind("channel_binding"u8, out var binding) && binding.TokenType != JsonTokenType.Null)
                    throw Malformed("the router asks for TLS channel binding, which this session did not offer");
                string hex = extra.GetString("challenge"u8) ?? throw Malformed("CHALLENGE.Extra.challenge must be a string");
                try
                {
                    return new(key.SignChallenge(hex));
                }
                catch (FormatException e)
                {
                    throw Malformed(e.Message);
                }
            }
        }
    }

    private sealed class CustomCredential(string authMethod, Func<WampChallenge, CancellationToken, ValueTask<string>> respond) : WampCredential(authMethod)
    {
        private protected override ValueTask<string> RespondAsync(WampChallenge challenge, CancellationToken cancellationToken) =>
            respond(challenge, cancellationToken);
    }

    private static WampAuthenticationException Malformed(string what) =>
        new(WampUris.ProtocolViolation, null, $"The router's CHALLENGE cannot be answered: {what}.");
}
