using System.Security.Cryptography;
using System.Text;

namespace WampContracts;

/// <summary>
/// WAMP-CRA (challenge-response authentication), computed exactly as Autobahn and Crossbar.io compute it: the
/// signature is Base64(HMAC-SHA256(key, UTF-8(challenge))); with salting, the key is the Base64 text of
/// PBKDF2-HMAC-SHA256(UTF-8(secret), UTF-8(salt), iterations, keylen), and that text (not the raw bytes) is the HMAC key.
/// </summary>
public static class WampCra
{
    /// <summary>Autobahn's defaults when a challenge names a salt but no iterations or key length.</summary>
    public const int DefaultIterations = 1000, DefaultKeyLength = 32;

    /// <summary>
    /// Most PBKDF2 iterations a client runs for one challenge, and the longest key it derives: a hostile router
    /// cannot make it spin (PBKDF2 cannot be interrupted).
    /// </summary>
    internal const int MaxIterations = 100_000, MaxKeyLength = 64;

    /// <summary>
    /// The salted key of <paramref name="secret"/>, as Base64 text (Autobahn's <c>derive_key</c>). Crossbar.io keeps
    /// this text, not the secret, as a salted principal's <c>secret</c>.
    /// </summary>
    public static string DeriveKey(string secret, string salt, int iterations = DefaultIterations, int keyLength = DefaultKeyLength)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(salt);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(keyLength, 1);
        byte[] key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(salt), iterations, HashAlgorithmName.SHA256, keyLength);
        return Convert.ToBase64String(key);
    }

    /// <summary>
    /// The signature of <paramref name="challenge"/> (the challenge string exactly as received) with
    /// <paramref name="key"/> (the secret, or the derived key's Base64 text when salted): Base64(HMAC-SHA256).
    /// </summary>
    public static string Sign(string key, string challenge)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(challenge);
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(challenge)));
    }
}
