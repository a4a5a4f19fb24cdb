using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;

namespace WampContracts.Tests;

/// <summary>The client's side of HELLO/CHALLENGE/AUTHENTICATE/WELCOME, against a scripted router.</summary>
public class AuthenticationUnitTests
{
    private const string Welcome =
        """[2, 99, {"authid": "joe", "authrole": "frontend", "authmethod": "ticket", "authprovider": "static", "roles": {"dealer": {}}}]""";

    /// <summary>Ends a joined session at once (the scripted router answers no GOODBYE).</summary>
    private static async Task CloseAsync(ScriptedRouter router, WampSession session)
    {
        router.Crash();
        await session.Completion.WaitAsync(ScriptedRouter.Bound);
        await session.DisposeAsync();
    }

    private static WampSessionOptions With(params WampCredential[] methods) =>
        new() { Authentication = new WampAuthentication { AuthId = "joe", Methods = methods } };

    [Fact]
    public async Task Hello_offers_the_methods_in_the_configured_order_with_authid_authrole_and_authextra()
    {
        using var key = WampCryptosignKey.Generate();
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", new WampSessionOptions
        {
            Authentication = new WampAuthentication
            {
                AuthId = "joe",
                AuthRole = "frontend",
                AuthExtra = new JsonObject { ["device"] = "kiosk-7" },
                Methods = [WampCredential.Cryptosign(key), WampCredential.WampCra("s"), WampCredential.Ticket("t"), WampCredential.Anonymous],
            },
        });
        var hello = await router.ReceiveAsync(WampMessageType.Hello);
        using var details = JsonDocument.Parse(hello.Dict.Json);
        var d = details.RootElement;
        Assert.Equal(["cryptosign", "wampcra", "ticket", "anonymous"], d.GetProperty("authmethods").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("joe", d.GetProperty("authid").GetString());
        Assert.Equal("frontend", d.GetProperty("authrole").GetString());
        Assert.Equal("kiosk-7", d.GetProperty("authextra").GetProperty("device").GetString());
        Assert.Equal(key.PublicKeyHex, d.GetProperty("authextra").GetProperty("pubkey").GetString());
        router.Send(Welcome);
        var session = await join.WaitAsync(ScriptedRouter.Bound);
        await CloseAsync(router, session);
    }

    [Fact]
    public async Task Without_authentication_hello_offers_anonymous_only()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1");
        var hello = await router.ReceiveAsync(WampMessageType.Hello);
        Assert.Equal("""["anonymous"]""", System.Text.Encoding.UTF8.GetString(hello.Dict.GetRaw("authmethods"u8).Span));
        Assert.True(hello.Dict.GetRaw("authid"u8).IsEmpty);
        router.Send(Welcome);
        var session = await join.WaitAsync(ScriptedRouter.Bound);
        await CloseAsync(router, session);
    }

    [Fact]
    public async Task A_ticket_challenge_is_answered_from_the_callback_and_welcome_tells_who_the_session_is()
    {
        int asked = 0;
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Ticket(_ => new($"token-{++asked}"))));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send("""[4, "ticket", {}]""");
        var authenticate = await router.ReceiveAsync(WampMessageType.Authenticate);
        Assert.Equal("token-1", authenticate.Uri);
        router.Send(Welcome);
        var session = await join.WaitAsync(ScriptedRouter.Bound);
        Assert.Equal(("joe", "frontend", "ticket", "static"), (session.AuthId, session.AuthRole, session.AuthMethod, session.AuthProvider));
        await CloseAsync(router, session);
    }

    [Fact]
    public async Task A_salted_wampcra_challenge_is_signed_with_the_derived_key()
    {
        const string challenge = """{"authid": "joe", "nonce": "n"}""";
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Ticket("t"), WampCredential.WampCra(_ => new("secret1"))));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send($$"""[4, "wampcra", {"challenge": {{JsonSerializer.Serialize(challenge)}}, "salt": "salt123", "iterations": 100, "keylen": 16}]""");
        var authenticate = await router.ReceiveAsync(WampMessageType.Authenticate);
        Assert.Equal(WampCra.Sign("prq7+YkJ1/KlW1X0YczMHw==", challenge), authenticate.Uri);
        router.Send(Welcome);
        var session = await join.WaitAsync(ScriptedRouter.Bound);
        await CloseAsync(router, session);
    }

    [Fact]
    public async Task A_cryptosign_challenge_is_signed_with_the_key_announced_in_hello()
    {
        using var key = WampCryptosignKey.FromSeedHex("4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510");
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Cryptosign(_ => new(key))));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send($$"""[4, "cryptosign", {"challenge": "{{new string('f', 64)}}", "channel_binding": null}]""");
        var authenticate = await router.ReceiveAsync(WampMessageType.Authenticate);
        Assert.Equal(key.SignChallenge(new string('f', 64)), authenticate.Uri);
        Assert.Equal(192, authenticate.Uri!.Length);
        router.Send(Welcome);
        var session = await join.WaitAsync(ScriptedRouter.Bound);
        await CloseAsync(router, session);
    }

    [Fact]
    public async Task A_challenge_for_a_method_not_configured_aborts_and_fails_the_join_clearly()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Ticket("t")));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send("""[4, "wampcra", {"challenge": "{}"}]""");
        var abort = await router.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal("wamp.error.cannot_authenticate", abort.Uri);
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wampcra", e.AuthMethod);
        Assert.Contains("'wampcra'", e.Message);
        Assert.Contains("not configured", e.Message);
        Assert.True(await router.ClientClosedAsync());
    }

    [Fact]
    public async Task A_challenge_to_an_anonymous_session_fails_the_join_as_a_connection_failure()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1");
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send("""[4, "ticket", {}]""");
        // WampAuthenticationException is a WampConnectionException: code that catches the latter keeps working.
        var e = await Assert.ThrowsAnyAsync<WampConnectionException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.IsType<WampAuthenticationException>(e);
    }

    [Fact]
    public async Task An_abort_after_authenticate_fails_the_join_with_the_reason_and_method()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Ticket("wrong")));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send("""[4, "ticket", {}]""");
        await router.ReceiveAsync(WampMessageType.Authenticate);
        router.Send("""[3, {"message": "authentication failed"}, "wamp.error.not_authorized"]""");
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal("wamp.error.not_authorized", e.Reason);
        Assert.Equal("ticket", e.AuthMethod);
        Assert.Contains("authentication failed", e.Message);
    }

    [Theory]
    [InlineData("wamp.error.no_matching_auth_method")]
    [InlineData("wamp.error.no_auth_method")]
    public async Task No_acceptable_method_fails_the_join_with_an_authentication_exception(string reason)
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Ticket("t")));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send($$"""[3, {}, "{{reason}}"]""");
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.Equal(reason, e.Reason);
        Assert.Null(e.AuthMethod);
    }

    [Fact]
    public async Task A_credential_callback_that_throws_aborts_and_carries_the_cause()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Ticket(_ => throw new InvalidOperationException("vault unreachable"))));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send("""[4, "ticket", {}]""");
        Assert.Equal("wamp.error.cannot_authenticate", (await router.ReceiveAsync(WampMessageType.Abort)).Uri);
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Contains("vault unreachable", e.Message);
    }

    [Fact]
    public async Task A_credential_callback_that_never_answers_is_bounded_by_the_connect_timeout()
    {
        var clock = new FakeTimeProvider();
        var never = new TaskCompletionSource<string>();
        await using var router = ScriptedRouter.Create();
        var options = new WampSessionOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(3),
            TimeProvider = clock,
            Authentication = new WampAuthentication { AuthId = "joe", Methods = [WampCredential.Ticket(_ => new(never.Task))] },
        };
        var join = WampSession.JoinAsync(router.Client, "realm1", options);
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send("""[4, "ticket", {}]""");
        Assert.False(join.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(3));
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.Contains("within 3000 ms", e.Message);
    }

    [Theory]
    [InlineData("""{"challenge": 5}""", "must be a string")]
    [InlineData("""{"challenge": "c", "salt": "s", "iterations": 100000000, "keylen": 32}""", "iterations must be an integer from 1 to 100000")]
    [InlineData("""{"challenge": "c", "salt": "s", "iterations": 10, "keylen": -1}""", "keylen must be an integer")]
    public async Task A_malformed_or_unreasonable_wampcra_challenge_is_refused_as_a_protocol_violation(string extra, string message)
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.WampCra("s")));
        await router.ReceiveAsync(WampMessageType.Hello);
        router.Send($$"""[4, "wampcra", {{extra}}]""");
        Assert.Equal(WampUris.ProtocolViolation, (await router.ReceiveAsync(WampMessageType.Abort)).Uri);
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() => join.WaitAsync(ScriptedRouter.Bound));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task A_third_challenge_is_refused()
    {
        await using var router = ScriptedRouter.Create();
        var join = WampSession.JoinAsync(router.Client, "realm1", With(WampCredential.Ticket("t")));
        await router.ReceiveAsync(WampMessageType.Hello);
        for (int i = 0; i < 2; i++)
        {
            router.Send("""[4, "ticket", {}]""");
            await router.ReceiveAsync(WampMessageType.Authenticate);
        }
        router.Send("""[4, "ticket", {}]""");
        Assert.Equal(WampUris.ProtocolViolation, (await router.ReceiveAsync(WampMessageType.Abort)).Uri);
        await Assert.ThrowsAsync<WampAuthenticationException>(() => join.WaitAsync(ScriptedRouter.Bound));
    }

    [Fact]
    public async Task Invalid_configurations_are_refused_before_connecting()
    {
        await using var router = ScriptedRouter.Create();
        await Assert.ThrowsAsync<ArgumentException>(() => WampSession.JoinAsync(router.Client, "realm1",
            new WampSessionOptions { Authentication = new WampAuthentication { Methods = [WampCredential.Ticket("t")] } }));
        await Assert.ThrowsAsync<ArgumentException>(() => WampSession.JoinAsync(router.Client, "realm1",
            new WampSessionOptions { Authentication = new WampAuthentication { AuthId = "joe", Methods = [WampCredential.Ticket("a"), WampCredential.Ticket("b")] } }));
        await Assert.ThrowsAsync<ArgumentException>(() => WampSession.JoinAsync(router.Client, "realm1",
            new WampSessionOptions { Authentication = new WampAuthentication { Methods = [] } }));
    }
}
