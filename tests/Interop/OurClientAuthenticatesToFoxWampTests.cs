using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>
/// Our client against fox-wamp with its ticket authentication. fox-wamp 0.7.28 has no verifier of its own: it runs the
/// CHALLENGE/AUTHENTICATE exchange and leaves the check to an application's auth handler (peers/fox-router.js
/// --ticket, modelled on fox-wamp's bin/with_auth.js). It implements neither WAMP-CRA nor cryptosign.
/// </summary>
public sealed class OurClientAuthenticatesToFoxWampTests : IAsyncLifetime
{
    private PeerProcess _router = null!;
    private Uri _url = null!;

    public async Task InitializeAsync() => (_router, _url) = await Peers.StartFoxWampAsync("--ticket", "joe:joe-ticket");

    public async Task DisposeAsync() => await _router.DisposeAsync();

    private Task<WampSession> ConnectAsync(string authId, params WampCredential[] methods) =>
        WampSession.ConnectAsync(_url, "realm1", new WampSessionOptions { Authentication = new WampAuthentication { AuthId = authId, Methods = methods } });

    [Fact]
    public async Task A_ticket_joins_and_the_session_works()
    {
        await using var session = await ConnectAsync("joe", WampCredential.Ticket(_ => new("joe-ticket")));
        Assert.Equal(("joe", "ticket"), (session.AuthId, session.AuthMethod));
        long count = (await session.CallAsync("wamp.session.count", WampPayload.Empty).WaitAsync(Peers.Bound)).Payload.GetArgument<long>(0);
        Assert.True(count >= 1);
    }

    [Fact]
    public async Task A_wrong_ticket_is_refused_with_an_authentication_exception()
    {
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() => ConnectAsync("joe", WampCredential.Ticket("guess")).WaitAsync(Peers.Bound));
        Assert.Equal("wamp.error.authentication_failed", e.Reason);
        Assert.Equal("ticket", e.AuthMethod);
    }

    [Fact]
    public async Task Offering_only_methods_fox_wamp_lacks_is_refused_with_its_no_auth_method()
    {
        using var key = WampCryptosignKey.Generate();
        var e = await Assert.ThrowsAsync<WampAuthenticationException>(() =>
            ConnectAsync("joe", WampCredential.Cryptosign(key), WampCredential.WampCra("s")).WaitAsync(Peers.Bound));
        Assert.Equal("wamp.error.no_auth_method", e.Reason);
    }
}
