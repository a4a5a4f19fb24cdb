using NSec.Cryptography;

namespace WampContracts;

/// <summary>
/// An Ed25519 key pair for WAMP-cryptosign. The private key is the 32-byte RFC 8032 seed (what Autobahn and
/// Crossbar.io call <c>privkey</c>); the public key, hex-encoded, is what a router lists as an authorized key.
/// </summary>
public sealed class WampCryptosignKey : IDisposable
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    /// <summary>Bytes of a cryptosign challenge, and of an Ed25519 public key and seed.</summary>
    internal const int ChallengeLength = 32, KeyLength = 32, SignatureLength = 64;

    private readonly Key _key;

    private WampCryptosignKey(Key key)
    {
        _key = key;
        PublicKeyHex = Convert.ToHexStringLower(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>The public key as 64 lowercase hex characters (sent in HELLO as <c>authextra.pubkey</c>).</summary>
    public string PublicKeyHex { get; }

    /// <summary>A key pair from its 32-byte seed.</summary>
    public static WampCryptosignKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != KeyLength)
            throw new ArgumentException($"An Ed25519 seed is {KeyLength} bytes, not {seed.Length}.", nameof(seed));
        return new(Key.Import(Ed25519, seed, KeyBlobFormat.RawPrivateKey));
    }

    /// <summary>A key pair from its seed written as 64 hex characters (as Autobahn's <c>privkey</c>).</summary>
    public static WampCryptosignKey FromSeedHex(string seedHex)
    {
        ArgumentNullException.ThrowIfNull(seedHex);
        byte[] seed;
        try
        {
            seed = Convert.FromHexString(seedHex);
        }
        catch (FormatException)
        {
            throw new ArgumentException("The seed must be 64 hex characters.", nameof(seedHex));
        }
        return FromSeed(seed);
    }

    /// <summary>A new random key pair.</summary>
    public static WampCryptosignKey Generate() => new(Key.Create(Ed25519));

    /// <summary>The Ed25519 signature (64 bytes) of <paramref name="data"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => Ed25519.Sign(_key, data);

    /// <summary>
    /// The AUTHENTICATE signature for a cryptosign challenge (32 random bytes, hex): hex(signature ‖ challenge),
    /// 192 hex characters, as Autobahn sends it (libsodium's "signed message").
    /// </summary>
    /// <exception cref="FormatException">The challenge is not 32 bytes written in hex.</exception>
    public string SignChallenge(string challengeHex)
    {
        ArgumentNullException.ThrowIfNull(challengeHex);
        byte[] challenge = Convert.FromHexString(challengeHex);
        if (challenge.Length != ChallengeLength)
            throw new FormatException($"A cryptosign challenge is {ChallengeLength} bytes, not {challenge.Length}.");
        return Convert.ToHexStringLower(Sign(challenge)) + Convert.ToHexStringLower(challenge);
    }

    /// <summary>
    /// True when <paramref name="signedHex"/> is hex(signature ‖ message) with a valid Ed25519 signature by
    /// <paramref name="publicKey"/> (32 bytes) over <paramref name="message"/>.
    /// </summary>
    internal static bool VerifySignedMessage(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, string signedHex)
    {
        if (signedHex.Length != 2 * (SignatureLength + message.Length)) return false;
        Span<byte> signed = stackalloc byte[SignatureLength + 64];
        signed = signed[..(SignatureLength + message.Length)];
        if (Convert.FromHexString(signedHex, signed, out _, out int written) != System.Buffers.OperationStatus.Done || written != signed.Length) return false;
        if (!signed[SignatureLength..].SequenceEqual(message)) return false;
        if (!PublicKey.TryImport(Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key)) return false;
        return Ed25519.Verify(key!, message, signed[..SignatureLength]);
    }

    /// <summary>Parses a public key written as 64 hex characters; false when it is not one.</summary>
    internal static bool TryParsePublicKey(string? hex, out byte[] key)
    {
        key = [];
        if (hex is null || hex.Length != 2 * KeyLength) return false;
        try
        {
            key = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public void Dispose() => _key.Dispose();
}
