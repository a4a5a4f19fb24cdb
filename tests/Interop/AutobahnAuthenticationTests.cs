using System.Text.Json;
using WampContracts.Router;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>
/// Autobahn|Python and Autobahn|JS authenticate to our router with ticket, WAMP-CRA (salted and unsalted) and
/// cryptosign, each with its own authenticator code; wrong secrets are refused.
/// </summary>
public sealed class AutobahnAuthenticationTests : IAsyncLifetime
{
    // The protocol's cryptosign test key: Autobahn gets the seed, our router the public key.
    private const string Seed = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";
    private const string PublicKey = "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d";
    private const string OtherSeed = "0000000000000000000000000000000000000000000000000000000000000001";

    private WampRouter _router = null!;

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions
        {
            Port = 0,
            RealmSettings =
            [
                new WampRealmOptions
                {
                    Name = "realm1",
                    Authentication =
                    [
                        new WampTicketAuthenticator { Principals = new Dictionary<string, WampTicketPrincipal> { ["joe"] = new("joe-ticket", "frontend") } },
                        new WampCraAuthenticator
                        {
                            Principals = new Dictionary<string, WampCraPrincipal>
                            {
                                ["peter"] = new("peter-secret", "backend"),
                                // Crossbar.io's documented salted principal: the key derived from "secret1" is what is kept.
                                ["salty"] = new("prq7+YkJ1/KlW1X0YczMHw==", "backend") { Salt = "salt123", Iterations = 100, KeyLength = 16 },
                            },
                        },
                        new WampCryptosignAuthenticator { Principals = new Dictionary<string, WampCryptosignPrincipal> { ["device-1"] = new([PublicKey], "device") } },
                    ],
                },
            ],
        });
    }

    public async Task DisposeAsync() => await _router.DisposeAsync();

    /// <summary>Method, authid, right secret, wrong secret, granted identity.</summary>
    public static TheoryData<string, string?, string, string, string, string> Cases => new()
    {
        { "ticket", "joe", "joe-ticket", "joe-guess", "joe", "frontend" },
        { "wampcra", "peter", "peter-secret", "peter-guess", "peter", "backend" },
        { "wampcra", "salty", "secret1", "secret2", "salty", "backend" },
        { "cryptosign", null, Seed, OtherSeed, "device-1", "device" },
        { "cryptosign", "device-1", Seed, OtherSeed, "device-1", "device" },
    };

    private async Task<JsonElement> RunPythonAsync(string method, string? authId, string secret)
    {
        string[] identity = authId is null ? [] : ["--authid", authId];
        return (await Peers.RunPythonAsync(_router.Url!, ["--authmethod", method, .. identity, "--secret", secret, "whoami"])).Single();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Autobahn_python_authenticates_and_wrong_secrets_are_refused(string method, string? authId, string secret, string wrong, string grantedId, string grantedRole)
    {
        var joined = await RunPythonAsync(method, authId, secret);
        Assert.Equal((grantedId, grantedRole, method, "static"), Identity(joined));

        var refused = await RunPythonAsync(method, authId, wrong);
        Assert.Equal("wamp.error.not_authorized", refused.Field("refused").GetString());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Autobahn_js_authenticates_and_wrong_secrets_are_refused(string method, string? authId, string secret, string wrong, string grantedId, string grantedRole)
    {
        var joined = await Peers.RunJsAuthAsync(_router.Url!, method, authId, secret);
        Assert.Equal((grantedId, grantedRole, method, "static"), Identity(joined));

        var refused = await Peers.RunJsAuthAsync(_router.Url!, method, authId, wrong);
        Assert.Equal("wamp.error.not_authorized", refused.Field("refused").GetString());
    }

    [Fact]
    public async Task Autobahn_python_offering_a_method_the_realm_lacks_is_refused_with_no_matching_auth_method()
    {
        // The realm lists no anonymous access: an Autobahn session without authenticators offers only anonymous.
        var refused = (await Peers.RunPythonAsync(_router.Url!, "whoami")).Single();
        Assert.Equal("wamp.error.no_matching_auth_method", refused.Field("refused").GetString());
    }

    [Fact]
    public async Task Our_cryptosign_signatures_verify_with_autobahns_key_and_pynacl()
    {
        using var key = WampCryptosignKey.Generate();
        string challenge = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        string signature = key.SignChallenge(challenge);
        Assert.Equal("VALID", await VerifyWithAutobahnAsync(key.PublicKeyHex, challenge, signature));
        string forged = (signature[0] == '0' ? "1" : "0") + signature[1..];
        Assert.Equal("INVALID", await VerifyWithAutobahnAsync(key.PublicKeyHex, challenge, forged));
    }

    private static async Task<string> VerifyWithAutobahnAsync(string publicKey, string challenge, string signature)
    {
        await using var process = PeerProcess.Start("/usr/bin/python3", ["verify_cryptosign.py", publicKey, challenge, signature], TimeSpan.FromSeconds(20), Peers.Directory);
        Assert.Equal(0, await process.WaitForExitAsync(Peers.Bound));
        return process.Log.Trim();
    }

    private static (string?, string?, string?, string?) Identity(JsonElement e)
    {
        Assert.False(e.TryGetProperty("refused", out var reason), $"refused: {reason}");
        return (e.Field("authid").GetString(), e.Field("authrole").GetString(), e.Field("authmethod").GetString(), e.Field("authprovider").GetString());
    }
}
