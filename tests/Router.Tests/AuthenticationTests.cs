using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

/// <summary>The router's HELLO/CHALLENGE/AUTHENTICATE/WELCOME, driven by raw frames.</summary>
public class AuthenticationTests
{
    private const string Roles = """{"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}""";
    private const string CryptosignSeed = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";
    private const string CryptosignPublicKey = "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d";

    private static readonly WampAuthenticator[] AllMethods =
    [
        new WampTicketAuthenticator { Principals = new Dictionary<string, WampTicketPrincipal> { ["joe"] = new("joe-ticket", "frontend"), ["admin"] = new("admin-ticket", "admin") } },
        new WampCraAuthenticator
        {
            Principals = new Dictionary<string, WampCraPrincipal>
            {
                ["peter"] = new("peter-secret", "backend"),
                ["salty"] = WampCraPrincipal.FromPassword("salty-secret", "backend", salt: "salt123", iterations: 100, keyLength: 16),
            },
        },
        new WampCryptosignAuthenticator { Principals = new Dictionary<string, WampCryptosignPrincipal> { ["device-1"] = new([CryptosignPublicKey], "device") } },
    ];

    private static WampRouter Router(IReadOnlyList<WampAuthenticator>? authentication, TimeProvider? clock = null, CapturingLoggerFactory? log = null) =>
        WampRouter.CreateInMemory(new WampRouterOptions
        {
            // The meta API is granted to the frontend role, to read what a session is known as.
            RealmSettings = [new WampRealmOptions
            {
                Name = "realm1",
                Authentication = authentication,
                Roles = [new WampRole { Name = "frontend", Permissions = [new WampPermission("wamp.session.", WampMatch.Prefix) { Call = true }] }],
            }],
            TimeProvider = clock ?? TimeProvider.System,
            LoggerFactory = log ?? (Microsoft.Extensions.Logging.ILoggerFactory)Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
        });

    private static void Hello(RawClient client, string methods, string? authId = null, string? authExtra = null) =>
        client.Send($$"""[1, "realm1", {"roles": {{Roles}}, "authmethods": {{methods}}{{(authId is null ? "" : $", \"authid\": \"{authId}\"")}}{{(authExtra is null ? "" : $", \"authextra\": {authExtra}")}}}]""");

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    [Theory]
    [InlineData("""["ticket"]""")]
    [InlineData("""["wampcra"]""")]
    [InlineData("""["cryptosign"]""")]
    public async Task Asking_for_a_method_as_admin_on_a_realm_with_settings_is_not_welcomed_as_anonymous(string methods)
    {
        // The realm has settings and no method but anonymous: a HELLO that does not offer anonymous is refused, never
        // welcomed as anonymous whatever authid it names.
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { RealmSettings = [new WampRealmOptions { Name = "realm1" }] });
        await using var client = RawClient.Connect(router);
        Hello(client, methods, "admin");
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.NoMatchingAuthMethod, abort.Uri);
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task A_ticket_hello_as_admin_is_challenged_and_a_wrong_ticket_is_refused_not_aborted_as_a_violation()
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket", "anonymous"]""", "admin");
        var challenge = await client.ReceiveAsync(WampMessageType.Challenge);
        Assert.Equal("ticket", challenge.Uri);
        client.Send("""[5, "guess", {}]""");
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.NotAuthorized, abort.Uri);
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task A_right_ticket_joins_with_the_principals_authid_and_role_reported_in_welcome_and_the_meta_api()
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket"]""", "joe");
        await client.ReceiveAsync(WampMessageType.Challenge);
        client.Send("""[5, "joe-ticket", {}]""");
        var welcome = await client.ReceiveAsync(WampMessageType.Welcome);
        Assert.Equal(("joe", "frontend", "ticket", "static"), Auth(welcome.Dict));

        client.Send($"[48, 1, {{}}, \"wamp.session.get\", [{welcome.Id1}]]");
        var info = await client.ReceiveAsync(WampMessageType.Result);
        var session = info.Payload.Arguments[0];
        Assert.Equal("ticket", session.GetProperty("authmethod").GetString());
        Assert.Equal("static", session.GetProperty("authprovider").GetString());
        Assert.Equal("joe", session.GetProperty("authid").GetString());
        Assert.Equal("frontend", session.GetProperty("authrole").GetString());
    }

    [Theory]
    [InlineData("peter", "peter-secret", null)]
    [InlineData("salty", "salty-secret", "salt123")]
    public async Task WampCra_challenges_with_the_protocols_fields_and_welcomes_the_right_signature(string authId, string secret, string? salt)
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        Hello(client, """["wampcra"]""", authId);
        var challenge = await client.ReceiveAsync(WampMessageType.Challenge);
        Assert.Equal("wampcra", challenge.Uri);
        string text = challenge.Dict.GetString("challenge"u8)!;
        using var fields = JsonDocument.Parse(text);
        var f = fields.RootElement;
        Assert.Equal(authId, f.GetProperty("authid").GetString());
        Assert.Equal("backend", f.GetProperty("authrole").GetString());
        Assert.Equal("wampcra", f.GetProperty("authmethod").GetString());
        Assert.Equal("static", f.GetProperty("authprovider").GetString());
        Assert.True(f.GetProperty("nonce").GetString()!.Length >= 16);
        Assert.EndsWith("Z", f.GetProperty("timestamp").GetString());
        long session = f.GetProperty("session").GetInt64();
        Assert.Equal(salt, challenge.Dict.GetString("salt"u8));

        string key = salt is null ? secret : WampCra.DeriveKey(secret, salt, (int)challenge.Dict.GetInt64("iterations"u8)!, (int)challenge.Dict.GetInt64("keylen"u8)!);
        client.Send($"[5, {Quote(WampCra.Sign(key, text))}, {{}}]");
        var welcome = await client.ReceiveAsync(WampMessageType.Welcome);
        Assert.Equal(session, welcome.Id1); // the session the challenge named
        Assert.Equal((authId, "backend", "wampcra", "static"), Auth(welcome.Dict));
    }

    [Fact]
    public async Task Cryptosign_challenges_32_random_bytes_and_welcomes_a_valid_signature_without_an_authid()
    {
        using var key = WampCryptosignKey.FromSeedHex(CryptosignSeed);
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        Hello(client, """["cryptosign"]""", authExtra: $$"""{"pubkey": "{{key.PublicKeyHex}}"}""");
        var challenge = await client.ReceiveAsync(WampMessageType.Challenge);
        Assert.Equal("cryptosign", challenge.Uri);
        string hex = challenge.Dict.GetString("challenge"u8)!;
        Assert.Equal(64, hex.Length);
        client.Send($"[5, \"{key.SignChallenge(hex)}\", {{}}]");
        var welcome = await client.ReceiveAsync(WampMessageType.Welcome);
        Assert.Equal(("device-1", "device", "cryptosign", "static"), Auth(welcome.Dict));
    }

    /// <summary>Every wrong credential gets the same ABORT: nothing tells whether the authid or the secret was wrong.</summary>
    [Theory]
    [InlineData("ticket", "joe", "wrong")]
    [InlineData("ticket", "nobody", "joe-ticket")]
    [InlineData("wampcra", "peter", "wrong")]
    [InlineData("wampcra", "nobody", "peter-secret")]
    [InlineData("wampcra", "salty", "wrong")]
    [InlineData("cryptosign", "device-1", "stranger")]
    [InlineData("cryptosign", "nobody", "device")]
    [InlineData("cryptosign", "device-1", "garbage")]
    public async Task Wrong_credentials_all_get_the_same_abort(string method, string authId, string secret)
    {
        using var deviceKey = WampCryptosignKey.FromSeedHex(CryptosignSeed);
        using var strangerKey = WampCryptosignKey.Generate();
        var key = secret == "stranger" ? strangerKey : deviceKey;
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        Hello(client, $"[\"{method}\"]", authId, method == "cryptosign" ? $$"""{"pubkey": "{{key.PublicKeyHex}}"}""" : null);
        var challenge = await client.ReceiveAsync(WampMessageType.Challenge);
        string signature = method switch
        {
            "ticket" => secret,
            "wampcra" => WampCra.Sign(challenge.Dict.GetString("salt"u8) is { } salt
                ? WampCra.DeriveKey(secret, salt, (int)challenge.Dict.GetInt64("iterations"u8)!, (int)challenge.Dict.GetInt64("keylen"u8)!)
                : secret, challenge.Dict.GetString("challenge"u8)!),
            _ => secret == "garbage" ? "00" : key.SignChallenge(challenge.Dict.GetString("challenge"u8)!),
        };
        client.Send($"[5, {Quote(signature)}, {{}}]");
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal("""[3,{"message":"authentication failed"},"wamp.error.not_authorized"]""", abort.ToString());
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task An_unknown_wampcra_authid_gets_a_salted_challenge_like_the_known_ones_and_the_same_each_time()
    {
        var salted = new WampCraAuthenticator { Principals = new Dictionary<string, WampCraPrincipal> { ["salty"] = WampCraPrincipal.FromPassword("s", "backend", "salt123", 100, 16) } };
        await using var router = Router([salted]);
        var salts = new List<string?>();
        for (int i = 0; i < 2; i++)
        {
            await using var client = RawClient.Connect(router);
            Hello(client, """["wampcra"]""", "nobody");
            var challenge = await client.ReceiveAsync(WampMessageType.Challenge);
            Assert.Equal(100, challenge.Dict.GetInt64("iterations"u8));
            Assert.Equal(16, challenge.Dict.GetInt64("keylen"u8));
            salts.Add(challenge.Dict.GetString("salt"u8));
        }
        Assert.NotNull(salts[0]);
        Assert.Equal(salts[0], salts[1]);
    }

    [Fact]
    public async Task The_first_of_the_clients_methods_that_the_realm_accepts_is_run()
    {
        await using var router = Router([new WampAnonymousAuthenticator { Role = "guest" }, .. AllMethods]);
        await using (var client = RawClient.Connect(router))
        {
            Hello(client, """["scram", "ticket", "anonymous"]""", "joe");
            Assert.Equal("ticket", (await client.ReceiveAsync(WampMessageType.Challenge)).Uri);
        }
        await using (var client = RawClient.Connect(router))
        {
            Hello(client, """["anonymous", "ticket"]""", "admin");
            var welcome = await client.ReceiveAsync(WampMessageType.Welcome);
            var (authId, authRole, authMethod, _) = Auth(welcome.Dict);
            Assert.Equal(("guest", "anonymous"), (authRole, authMethod));
            Assert.StartsWith("anonymous-", authId); // a requested authid is not granted to an anonymous session
        }
    }

    [Fact]
    public async Task Anonymous_is_refused_where_the_realm_does_not_list_it()
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        client.Send($$"""[1, "realm1", {"roles": {{Roles}}}]"""); // no authmethods: anonymous
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.NoMatchingAuthMethod, abort.Uri);
        Assert.Contains("ticket, wampcra, cryptosign", abort.Dict.GetString("message"u8));
    }

    [Fact]
    public async Task A_flood_of_offered_methods_is_echoed_only_in_part()
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        string methods = JsonSerializer.Serialize(Enumerable.Range(0, 10_000).Select(i => new string('m', 100) + i));
        Hello(client, methods, "joe");
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.NoMatchingAuthMethod, abort.Uri);
        string message = abort.Dict.GetString("message"u8)!;
        Assert.Contains("(10000 in all)", message);
        Assert.True(message.Length < 1000, message);
    }

    [Fact]
    public async Task Open_realms_still_welcome_everyone_as_anonymous()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { Realms = ["realm1"] });
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket"]""", "admin");
        var welcome = await client.ReceiveAsync(WampMessageType.Welcome);
        Assert.Equal(("anonymous", "anonymous", "static"), (Auth(welcome.Dict).AuthRole, Auth(welcome.Dict).AuthMethod, Auth(welcome.Dict).AuthProvider));
    }

    [Theory]
    [InlineData("""[48, 1, {}, "com.example.x"]""", "Call received while waiting for AUTHENTICATE")]
    [InlineData("""[1, "realm1", {"roles": {"caller": {}}}]""", "Hello received while waiting for AUTHENTICATE")]
    [InlineData("""[5, 42, {}]""", "non-string")]
    [InlineData("""[5]""", "too short")]
    [InlineData("""[6, {}, "wamp.close.normal"]""", "Goodbye received while waiting for AUTHENTICATE")]
    public async Task Anything_but_authenticate_after_a_challenge_is_a_protocol_violation(string message, string reason)
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket"]""", "joe");
        await client.ReceiveAsync(WampMessageType.Challenge);
        client.Send(message);
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.ProtocolViolation, abort.Uri);
        Assert.Contains(reason, abort.Dict.GetString("message"u8), StringComparison.OrdinalIgnoreCase);
        Assert.True(await client.ClosedAsync());
    }

    [Theory]
    [InlineData("\"authmethods\": \"ticket\"", "authmethods must be a list of strings")]
    [InlineData("\"authmethods\": [\"ticket\", 7]", "authmethods must be a list of strings")]
    [InlineData("\"authmethods\": [\"ticket\"], \"authid\": 7", "authid must be a string")]
    [InlineData("\"authmethods\": [\"ticket\"], \"authextra\": []", "authextra must be a dictionary")]
    public async Task Malformed_authentication_details_are_a_protocol_violation(string fields, string reason)
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        client.Send($$"""[1, "realm1", {"roles": {{Roles}}, {{fields}}}]""");
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.ProtocolViolation, abort.Uri);
        Assert.Contains(reason, abort.Dict.GetString("message"u8));
    }

    [Theory]
    [InlineData("ticket", null, "needs an authid")]
    [InlineData("wampcra", null, "needs an authid")]
    [InlineData("cryptosign", "{}", "needs authextra.pubkey")]
    [InlineData("cryptosign", """{"pubkey": "abc"}""", "needs authextra.pubkey")]
    public async Task A_hello_missing_what_its_method_needs_is_refused_at_once(string method, string? authExtra, string reason)
    {
        await using var router = Router(AllMethods);
        await using var client = RawClient.Connect(router);
        Hello(client, $"[\"{method}\"]", authExtra: authExtra);
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.NotAuthorized, abort.Uri);
        Assert.Contains(reason, abort.Dict.GetString("message"u8));
    }

    [Fact]
    public async Task Callbacks_verify_tickets_and_look_up_principals_as_the_dynamic_provider()
    {
        using var key = WampCryptosignKey.Generate();
        await using var router = Router(
        [
            new WampTicketAuthenticator { Verify = (authId, ticket, ct) => new(ticket == "token-" + authId ? new WampPrincipal(authId + "@example.com", "user") { AuthExtra = new() { ["tier"] = "gold" } } : null) },
            new WampCraAuthenticator { Lookup = (authId, ct) => new(authId == "ann" ? new WampCraPrincipal("ann-secret", "user") : null) },
            new WampCryptosignAuthenticator { Lookup = (pubkey, authId, ct) => new(pubkey == key.PublicKeyHex ? new WampPrincipal("device-" + pubkey[..8], "device") : null) },
        ]);
        await using (var client = RawClient.Connect(router))
        {
            Hello(client, """["ticket"]""", "bob");
            await client.ReceiveAsync(WampMessageType.Challenge);
            client.Send("""[5, "token-bob", {}]""");
            var welcome = await client.ReceiveAsync(WampMessageType.Welcome);
            Assert.Equal(("bob@example.com", "user", "ticket", "dynamic"), Auth(welcome.Dict));
            Assert.Equal("gold", welcome.Dict.GetDict("authextra"u8).GetString("tier"u8));
        }
        await using (var client = RawClient.Connect(router))
        {
            Hello(client, """["wampcra"]""", "ann");
            var challenge = await client.ReceiveAsync(WampMessageType.Challenge);
            client.Send($"[5, {Quote(WampCra.Sign("ann-secret", challenge.Dict.GetString("challenge"u8)!))}, {{}}]");
            Assert.Equal(("ann", "user", "wampcra", "dynamic"), Auth((await client.ReceiveAsync(WampMessageType.Welcome)).Dict));
        }
        await using (var client = RawClient.Connect(router))
        {
            Hello(client, """["cryptosign"]""", authExtra: $$"""{"pubkey": "{{key.PublicKeyHex}}"}""");
            var challenge = await client.ReceiveAsync(WampMessageType.Challenge);
            client.Send($"[5, \"{key.SignChallenge(challenge.Dict.GetString("challenge"u8)!)}\", {{}}]");
            Assert.Equal(("device-" + key.PublicKeyHex[..8], "device", "cryptosign", "dynamic"), Auth((await client.ReceiveAsync(WampMessageType.Welcome)).Dict));
        }
    }

    [Fact]
    public async Task A_verifier_that_throws_refuses_the_session_as_a_technical_failure_and_is_logged_without_the_secret()
    {
        var log = new CapturingLoggerFactory();
        await using var router = Router([new WampTicketAuthenticator { Verify = (_, _, _) => throw new InvalidOperationException("user store down") }], log: log);
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket"]""", "joe");
        await client.ReceiveAsync(WampMessageType.Challenge);
        client.Send("""[5, "s3cr3t-ticket", {}]""");
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(WampUris.AuthenticationFailed, abort.Uri);
        Assert.DoesNotContain("user store", abort.ToString());
        var entry = Assert.Single(log.Entries, e => e.Id.Id == 2008);
        Assert.Contains("'joe'", entry.Message);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.DoesNotContain(log.Entries, e => e.Message.Contains("s3cr3t"));
    }

    [Fact]
    public async Task A_failed_attempt_is_logged_with_the_authid_and_method_but_never_the_ticket()
    {
        var log = new CapturingLoggerFactory();
        await using var router = Router(AllMethods, log: log);
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket"]""", "admin");
        await client.ReceiveAsync(WampMessageType.Challenge);
        client.Send("""[5, "hunter2-guess", {}]""");
        await client.ReceiveAsync(WampMessageType.Abort);
        Assert.True(await client.ClosedAsync());
        var entry = Assert.Single(log.Entries, e => e.Id.Id == 2007);
        Assert.Contains("ticket authentication as 'admin'", entry.Message);
        Assert.DoesNotContain(log.Entries, e => e.Message.Contains("hunter2"));
    }

    [Fact]
    public async Task A_client_that_never_answers_the_challenge_is_aborted_at_the_handshake_bound()
    {
        var clock = new FakeTimeProvider();
        await using var router = Router(AllMethods, clock);
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket"]""", "joe");
        await client.ReceiveAsync(WampMessageType.Challenge);
        var abort = await AdvanceUntilAsync(clock, client.ReceiveAsync(WampMessageType.Abort));
        Assert.Equal(WampUris.ProtocolViolation, abort.Uri);
        Assert.Contains("no AUTHENTICATE within 10000 ms", abort.Dict.GetString("message"u8));
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task A_verifier_that_never_answers_is_left_behind_at_the_handshake_bound()
    {
        var clock = new FakeTimeProvider();
        var never = new TaskCompletionSource<WampPrincipal?>();
        await using var router = Router([new WampTicketAuthenticator { Verify = (_, _, _) => new(never.Task) }], clock);
        await using var client = RawClient.Connect(router);
        Hello(client, """["ticket"]""", "joe");
        await client.ReceiveAsync(WampMessageType.Challenge);
        client.Send("""[5, "t", {}]""");
        var abort = await AdvanceUntilAsync(clock, client.ReceiveAsync(WampMessageType.Abort));
        Assert.Equal(WampUris.AuthenticationFailed, abort.Uri);
        Assert.Contains("did not finish in time", abort.Dict.GetString("message"u8));
        never.SetException(new InvalidOperationException("late")); // observed by the router, never unobserved
    }

    [Fact]
    public void Configurations_that_cannot_work_are_refused_when_the_router_is_created()
    {
        Assert.Contains("lists no authentication method", Assert.Throws<ArgumentException>(() => Router([])).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => Router([new WampAnonymousAuthenticator(), new WampAnonymousAuthenticator()])).Message);
        Assert.Contains("neither", Assert.Throws<ArgumentException>(() => Router([new WampTicketAuthenticator()])).Message);
        Assert.Contains("not a public key", Assert.Throws<ArgumentException>(() =>
            Router([new WampCryptosignAuthenticator { Principals = new Dictionary<string, WampCryptosignPrincipal> { ["d"] = new(["xyz"], "device") } }])).Message);
    }

    private static (string? AuthId, string? AuthRole, string? AuthMethod, string? AuthProvider) Auth(WampDict details) =>
        (details.GetString("authid"u8), details.GetString("authrole"u8), details.GetString("authmethod"u8), details.GetString("authprovider"u8));

    /// <summary>Moves the fake clock a second at a time until <paramref name="task"/> completes (the router's timer starts after the CHALLENGE goes out).</summary>
    private static async Task<T> AdvanceUntilAsync<T>(FakeTimeProvider clock, Task<T> task)
    {
        using var stop = new CancellationTokenSource(RawClient.Bound);
        while (!task.IsCompleted && !stop.IsCancellationRequested)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(task, Task.Delay(10, stop.Token));
        }
        return await task;
    }
}
