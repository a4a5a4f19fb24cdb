using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WampContracts.Hosting;

namespace WampContracts.Router.Tests;

/// <summary>The router mapped at an endpoint of an existing ASP.NET Core application.</summary>
public class MapWampRouterTests
{
    // Bounds every wait; not a speed assertion.
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_mapped_router_serves_sessions_beside_the_apps_endpoints_and_says_goodbye_when_the_app_stops()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapWampRouter("/ws");
        app.MapGet("/", () => "the app");
        using var bound = new CancellationTokenSource(Bound);
        await app.StartAsync(bound.Token);
        var http = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var ws = new Uri($"ws://127.0.0.1:{http.Port}/ws");

        await using var callee = await WampSession.ConnectAsync(ws, "realm1", cancellationToken: bound.Token);
        await using var caller = await WampSession.ConnectAsync(ws, "realm1", cancellationToken: bound.Token);
        await using var registration = await callee.RegisterAsync("com.example.add", (invocation, _) =>
            ValueTask.FromResult(WampPayload.FromJson($"[{invocation.Payload.GetArgument<int>(0) + invocation.Payload.GetArgument<int>(1)}]")), cancellationToken: bound.Token);
        var result = await caller.CallAsync("com.example.add", WampPayload.FromJson("[2,3]"), cancellationToken: bound.Token);
        Assert.Equal(5, result.Payload.GetArgument<int>(0));

        // A plain HTTP request to the router's path is told what it is; the app's own endpoints are untouched.
        using var client = new HttpClient { Timeout = Bound };
        using var plain = await client.GetAsync(new Uri(http, "/ws"), bound.Token);
        Assert.Equal(HttpStatusCode.UpgradeRequired, plain.StatusCode);
        Assert.Contains("This is a WAMP router", await plain.Content.ReadAsStringAsync(bound.Token));
        Assert.Equal("the app", await client.GetStringAsync(http, bound.Token));

        await app.StopAsync(bound.Token);
        await callee.Completion.WaitAsync(bound.Token);
        await caller.Completion.WaitAsync(bound.Token);
        Assert.Equal("wamp.close.system_shutdown", callee.CloseReason);
        Assert.Equal("wamp.close.system_shutdown", caller.CloseReason);
    }
}
