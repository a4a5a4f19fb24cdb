using NSec.Cryptography;

namespace WampContracts.Tests;

/// <summary>
/// WAMP-CRA and cryptosign against vectors computed with Autobahn|Python 22.7.1 (<c>autobahn.wamp.auth.derive_key</c>,
/// <c>compute_wcs</c>, <c>CryptosignKey.sign_challenge</c>) on this machine.
/// </summary>
public class AuthenticationCryptoUnitTests
{
    // The challenge string of the protocol's WAMP-CRA example, signed exactly as written.
    private const string CraChallenge =
        """{"authid": "peter", "authrole": "user", "authmethod": "wampcra", "authprovider": "static", "nonce": "LHRTC9zeOIrt_9U3", "timestamp": "2014-06-22T16:36:25.448Z", "session": 3251278072152162}""";

    [Fact]
    public void WampCra_signs_an_unsalted_challenge_as_autobahn_does()
    {
        Assert.Equal("MCxaM9uCp1n9arPWK6eZa/FXI45WGn6YBR7fuAWVAuY=", WampCra.Sign("secret1", CraChallenge));
    }

    [Theory]
    [InlineData("secret1", "salt123", 100, 16, "prq7+YkJ1/KlW1X0YczMHw==", "bz9VMi5vaHSx5AXHa+Hj9WuS/Oc+T0ZcowXinUkYlZg=")]
    [InlineData("pässwörd", "sälz", 1000, 32, "huILEu3UvxJKz9ice7QNb0Xs3l0FWQG39DTor+ngMXc=", "r9UeL1WtA4W5jSCBbfM5VZwEEkHHpyYtl1W2DFpIvlc=")]
    public void WampCra_derives_salted_keys_and_signs_with_their_base64_text_as_autobahn_does(string secret, string salt, int iterations, int keyLength, string derived, string signature)
    {
        string key = WampCra.DeriveKey(secret, salt, iterations, keyLength);
        Assert.Equal(derived, key);
        Assert.Equal(signature, WampCra.Sign(key, CraChallenge));
    }

    [Fact]
    public void Cryptosign_signs_the_protocols_test_vector()
    {
        using var key = WampCryptosignKey.FromSeedHex("4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510");
        Assert.Equal("1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d", key.PublicKeyHex);
        Assert.Equal(
            "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03"
            + new string('f', 64),
            key.SignChallenge(new string('f', 64)));
    }

    [Fact]
    public void Cryptosign_signs_as_autobahn_for_another_key_and_challenge()
    {
        byte[] seed = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        string challenge = Convert.ToHexStringLower(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
        using var key = WampCryptosignKey.FromSeed(seed);
        Assert.Equal("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8", key.PublicKeyHex);
        Assert.Equal(
            "0e6d264980051744d1e68c83a5c480a44aaf8178de36baa71b3c95eeaa825b1d5a435bbd6ea103d1e39a82d6b134f59f56c38c4d1496e64227847dba0552e80e" + challenge,
            key.SignChallenge(challenge));
    }

    [Fact]
    public void A_cryptosign_signature_verifies_with_nsec_and_with_the_routers_check_and_fails_when_altered()
    {
        using var key = WampCryptosignKey.Generate();
        byte[] challenge = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        string signed = key.SignChallenge(Convert.ToHexStringLower(challenge));
        byte[] publicKey = Convert.FromHexString(key.PublicKeyHex);

        var ed25519 = SignatureAlgorithm.Ed25519;
        var nsecKey = NSec.Cryptography.PublicKey.Import(ed25519, publicKey, KeyBlobFormat.RawPublicKey);
        Assert.True(ed25519.Verify(nsecKey, challenge, Convert.FromHexString(signed[..128])));
        Assert.True(WampCryptosignKey.VerifySignedMessage(publicKey, challenge, signed));

        // One bit off in the signature, a different challenge, the wrong key, a short answer: all refused.
        char flipped = signed[0] == '0' ? '1' : '0';
        Assert.False(WampCryptosignKey.VerifySignedMessage(publicKey, challenge, flipped + signed[1..]));
        byte[] other = (byte[])challenge.Clone();
        other[0] ^= 1;
        Assert.False(WampCryptosignKey.VerifySignedMessage(publicKey, other, signed));
        using var stranger = WampCryptosignKey.Generate();
        Assert.False(WampCryptosignKey.VerifySignedMessage(Convert.FromHexString(stranger.PublicKeyHex), challenge, signed));
        Assert.False(WampCryptosignKey.VerifySignedMessage(publicKey, challenge, signed[..128]));
        Assert.False(WampCryptosignKey.VerifySignedMessage(publicKey, challenge, "zz" + signed[2..]));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de28045")]
    public void A_seed_that_is_not_32_bytes_of_hex_is_refused(string seed)
    {
        Assert.Throws<ArgumentException>(() => WampCryptosignKey.FromSeedHex(seed));
    }
}
