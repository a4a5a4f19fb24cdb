using Conferences;
using WampContracts.Protocol;

namespace WampContracts.Browser.Tests;

/// <summary>The demo's realm: browsers join anonymously and may call and subscribe, never register or publish.</summary>
public sealed class ConferencesRealmTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task An_anonymous_browser_may_call_and_subscribe_but_not_register_or_publish()
    {
        await using var app = await ConferencesApp.StartAsync();
        await using var browser = await WampSession.ConnectAsync(app.RouterUrl, ConferencesApp.Realm, ConferencesApp.SessionOptions());
        Assert.Equal(("browser", "anonymous"), (browser.AuthRole, browser.AuthMethod));

        var conference = await browser.CallAsync("com.example.conferences.get", WampPayload.FromJson("[123]")).WaitAsync(Bound);
        Assert.Contains("deSymfony", conference.Payload.ToString());
        await using var subscription = await browser.SubscribeAsync("com.example.conferences.updated", static (e, ct) => ValueTask.CompletedTask);

        // Answering every caller of a procedure, or speaking for the service, is the service's alone.
        var register = await Assert.ThrowsAsync<WampException>(() => browser.RegisterAsync("com.example.conferences.get", static (inv, ct) => ValueTask.FromResult(inv.Payload)));
        Assert.Equal(WampUris.NotAuthorized, register.Uri);
        var publish = await Assert.ThrowsAsync<WampException>(async () =>
            await browser.PublishAsync("com.example.conferences.updated", WampPayload.FromJson("""[{"name": "fake"}]"""), new WampPublishOptions { Acknowledge = true }));
        Assert.Equal(WampUris.NotAuthorized, publish.Uri);
    }
}
