using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WampContracts;

/// <summary>
/// Settings of the WebSocket that <see cref="WampSession.ConnectAsync"/> opens: the keepalive that finds a dead
/// router, and for <c>wss://</c> how the router's certificate is checked and which certificate the client presents.
/// See docs/security.md.
/// </summary>
/// <remarks>
/// By default a <c>wss://</c> router's certificate must be valid for the URL's host and chain to a root the
/// system trusts. <see cref="PinnedCertificates"/> and <see cref="PinnedPublicKeys"/> replace that trust with the
/// pins; <see cref="ServerCertificateValidation"/> replaces it with your own decision (after the pins, if any).
/// </remarks>
public sealed class WampWebSocketOptions
{
    /// <summary>The defaults, a new instance each time (so nothing shared can be changed for every session).</summary>
    public static WampWebSocketOptions Default => new();

    /// <summary>
    /// How long the connection may go without receiving anything before the client sends a WebSocket ping. Zero or
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns the keepalive off. Default 20 s.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long the client waits for the router's pong before it drops the connection as dead (the session then
    /// ends, or reconnects, with <c>wamp.close.transport_lost</c>). Zero or <see cref="Timeout.InfiniteTimeSpan"/>:
    /// the keepalive only sends unsolicited pongs (which keep idle connections open through proxies) and awaits
    /// nothing, so a dead router is found only by TCP. Default 20 s. A dead router is found after interval plus timeout, plus at most two ticks of the
    /// keepalive timer (a quarter of the shorter of the two, at least 1 s): 40 to 50 s by default.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// SHA-256 fingerprints of router certificates to accept, each the hash of the whole DER certificate in hex
    /// (64 digits; colons, spaces and case do not matter), as <c>openssl x509 -noout -fingerprint -sha256</c> prints it
    /// or <see cref="CertificatePin"/> computes it. When pins are set (here or in <see cref="PinnedPublicKeys"/>), the
    /// router's certificate must match one of them and nothing else is required of it: neither a trusted chain nor
    /// the URL's host name (a self-signed certificate is fine); one that matches none is refused even if the system
    /// trusts it. A certificate pin must be changed when the certificate is renewed.
    /// </summary>
    public IReadOnlyList<string>? PinnedCertificates { get; init; }

    /// <summary>
    /// SHA-256 hashes of router public keys to accept, each the hash of the certificate's DER SubjectPublicKeyInfo in
    /// base64, optionally prefixed with <c>sha256/</c> (the form of HPKP and OkHttp), as <see cref="PublicKeyPin"/>
    /// computes it or <c>openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64</c>
    /// prints it. Same rules as <see cref="PinnedCertificates"/>, but a public-key pin survives a renewed
    /// certificate that keeps its key.
    /// </summary>
    public IReadOnlyList<string>? PinnedPublicKeys { get; init; }

    /// <summary>
    /// Decides whether the router's certificate is accepted, given the chain the system built and the errors it found
    /// (<see cref="SslPolicyErrors.None"/> when the system trusts it for the URL's host). With pins set, it is asked
    /// only about certificates that match a pin. Refusing fails the connection with a
    /// <see cref="WampConnectionException"/> that names the certificate and the errors.
    /// </summary>
    public Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool>? ServerCertificateValidation { get; init; }

    /// <summary>The certificate (with its private key) the client presents when the router asks for one (mutual TLS).</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>True when any TLS setting is made: such settings need a <c>wss://</c> URL.</summary>
    internal bool HasTlsSettings =>
        PinnedCertificates is { Count: > 0 } || PinnedPublicKeys is { Count: > 0 } || ServerCertificateValidation is not null || ClientCertificate is not null;

    /// <summary>The pin of <paramref name="certificate"/> for <see cref="PinnedCertificates"/>: SHA-256 of its DER encoding, upper-case hex.</summary>
    public static string CertificatePin(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
    }

    /// <summary>The pin of <paramref name="certificate"/>'s public key for <see cref="PinnedPublicKeys"/>: <c>sha256/</c> and the base64 SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static string PublicKeyPin(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return "sha256/" + Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>The certificate pins as 32-byte hashes; a malformed pin is an <see cref="ArgumentException"/>.</summary>
    internal static List<byte[]> ParseCertificatePins(IReadOnlyList<string>? pins)
    {
        var hashes = new List<byte[]>();
        foreach (string pin in pins ?? [])
        {
            string hex = (pin ?? "").Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
                throw new ArgumentException($"Pinned certificate '{pin}' is not a SHA-256 fingerprint (64 hex digits, colons allowed).", nameof(PinnedCertificates));
            hashes.Add(Convert.FromHexString(hex));
        }
        return hashes;
    }

    /// <summary>The public-key pins as 32-byte hashes; a malformed pin is an <see cref="ArgumentException"/>.</summary>
    internal static List<byte[]> ParsePublicKeyPins(IReadOnlyList<string>? pins)
    {
        var hashes = new List<byte[]>();
        foreach (string pin in pins ?? [])
        {
            string text = pin ?? "";
            if (text.StartsWith("sha256/", StringComparison.OrdinalIgnoreCase)) text = text["sha256/".Length..];
            var hash = new byte[32];
            if (!Convert.TryFromBase64String(text, hash, out int written) || written != 32)
                throw new ArgumentException($"Pinned public key '{pin}' is not a base64 SHA-256 hash (44 characters, optionally after 'sha256/').", nameof(PinnedPublicKeys));
            hashes.Add(hash);
        }
        return hashes;
    }

    internal static string Describe(X509Certificate2 certificate) => string.Create(CultureInfo.InvariantCulture,
        $"'{certificate.Subject}' (issuer '{certificate.Issuer}', SHA-256 {CertificatePin(certificate)}, valid {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u})");
}
