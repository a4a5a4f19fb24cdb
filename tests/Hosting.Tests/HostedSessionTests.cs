using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using WampContracts.Router;

namespace WampContracts.Hosting.Tests;

public class HostedSessionTests
{
    // Bounds every wait of these tests; none of them is a speed assertion.
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task The_proxy_is_injected_and_each_invocation_gets_its_implementation_from_a_scope_of_its_own()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        using var host = Host(router.Url!, services => services
            .AddWampProxy<IInventory>()
            .AddWampCallee<IInventory, Inventory>());
        using var bound = new CancellationTokenSource(Bound);
        await host.StartAsync(bound.Token);
        var tracker = host.Services.GetRequiredService<Tracker>();
        await host.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(bound.Token);

        var inventory = host.Services.GetRequiredService<IInventory>();
        var first = await inventory.Get(123, bound.Token);
        var second = await inventory.Get(7, bound.Token);

        Assert.Equal(new Item(123, "item 123 from instance 1"), first);
        Assert.Equal(new Item(7, "item 7 from instance 2"), second);
        Assert.Equal(2, tracker.Created);
        // Each scope is disposed once its invocation has answered, before the RESULT goes out.
        Assert.Equal(2, tracker.Disposed);
        Assert.Same(inventory, host.Services.GetRequiredService<IInventory>());
        await host.StopAsync(bound.Token);
    }

    [Fact]
    public async Task An_interceptor_added_through_DI_runs_on_both_sides_of_the_hosted_session()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        using var host = Host(router.Url!, services => services
            .AddWampInterceptor<TenantInterceptor>()
            .AddWampProxy<IInventory>()
            .AddWampCallee<IInventory, Inventory>());
        using var bound = new CancellationTokenSource(Bound);
        await host.StartAsync(bound.Token);
        await host.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(bound.Token);

        await host.Services.GetRequiredService<IInventory>().Get(5, bound.Token);

        // The caller's side stamped the call; the callee's side (the same hosted session) read the stamp.
        Assert.Equal(["acme"], host.Services.GetRequiredService<TenantInterceptor>().Seen);
        await host.StopAsync(bound.Token);
    }

    [Fact]
    public async Task A_hosted_session_speaks_MessagePack_over_RawSocket_when_configured()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, RawSocketPort = 0 });
        using var host = Host(router.RawSocketUrl!, services => services
            .AddWampProxy<IInventory>()
            .AddWampCallee<IInventory, Inventory>()
            .ConfigureWampSession(s => s.Serializers = [Serialization.WampSerializer.MessagePack]));
        using var bound = new CancellationTokenSource(Bound);
        await host.StartAsync(bound.Token);
        await host.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(bound.Token);

        var item = await host.Services.GetRequiredService<IInventory>().Get(9, bound.Token);

        Assert.Equal(9, item.Id);
        await host.StopAsync(bound.Token);
    }

    [Fact]
    public async Task A_call_made_before_the_router_is_up_waits_for_the_join_and_the_health_check_follows_the_session()
    {
        int port = FreePort();
        var url = new Uri($"ws://127.0.0.1:{port}/");
        using var host = Host(url, services => services
            .AddWampProxy<IInventory>()
            .AddWampCallee<IInventory, Inventory>()
            .AddHealthChecks().AddWampHealthCheck(),
            ("Wamp:DefaultCallTimeout", "00:01:00")); // the call's wait for the join: far longer than starting a router takes
        using var bound = new CancellationTokenSource(Bound);
        await host.StartAsync(bound.Token);
        var health = host.Services.GetRequiredService<HealthCheckService>();

        // No router yet: the host has started, the session is joining, the call waits.
        var before = await health.CheckHealthAsync(bound.Token);
        Assert.Equal(HealthStatus.Degraded, before.Status);
        var call = host.Services.GetRequiredService<IInventory>().Get(42, bound.Token);
        Assert.False(call.IsCompleted);

        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = port });
        Assert.Equal(new Item(42, "item 42 from instance 1"), await call.WaitAsync(bound.Token));

        await host.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(bound.Token);
        var joined = await health.CheckHealthAsync(bound.Token);
        Assert.Equal(HealthStatus.Healthy, joined.Status);
        Assert.Equal("realm1", joined.Entries["wamp"].Data["realm"]);

        await host.StopAsync(bound.Token);
        var stopped = await health.CheckHealthAsync(bound.Token);
        Assert.Equal(HealthStatus.Unhealthy, stopped.Status);
    }

    [Fact]
    public async Task A_call_whose_time_limit_ends_before_the_join_fails_in_that_time()
    {
        using var host = Host(new Uri($"ws://127.0.0.1:{FreePort()}/"), services => services.AddWampProxy<IInventory>(),
            ("Wamp:DefaultCallTimeout", "00:00:00.200"));
        using var bound = new CancellationTokenSource(Bound);
        await host.StartAsync(bound.Token);

        var e = await Assert.ThrowsAsync<WampConnectionException>(() => host.Services.GetRequiredService<IInventory>().Get(1, bound.Token));
        Assert.Contains("No connection to the router", e.Message);
        await host.StopAsync(bound.Token);
    }

    [Fact]
    public async Task An_injected_publisher_reaches_a_subscriber_resolved_from_a_scope()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        using var subscriberHost = Host(router.Url!, services => services.AddWampSubscriber<IInventoryEvents, InventoryListener>());
        using var publisherHost = Host(router.Url!, services => services.AddWampPublisher<IInventoryEvents>());
        using var bound = new CancellationTokenSource(Bound);
        await subscriberHost.StartAsync(bound.Token);
        await publisherHost.StartAsync(bound.Token);
        await subscriberHost.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(bound.Token);

        await publisherHost.Services.GetRequiredService<IInventoryEvents>().Changed(new Item(5, "five"));

        var tracker = subscriberHost.Services.GetRequiredService<Tracker>();
        Assert.Equal(new Item(5, "five"), await tracker.EventReceived.Task.WaitAsync(bound.Token));
        await publisherHost.StopAsync(bound.Token);
        await subscriberHost.StopAsync(bound.Token);
        Assert.Equal(1, tracker.Disposed);
    }

    [Fact]
    public async Task A_publish_made_before_the_router_is_up_waits_for_the_join()
    {
        int port = FreePort();
        // The wait's bound (OperationTimeout) is far longer than starting a router takes, even on a loaded machine.
        using var host = Host(new Uri($"ws://127.0.0.1:{port}/"), services => services.AddWampPublisher<IInventoryEvents>(),
            ("Wamp:OperationTimeout", "00:01:00"));
        using var bound = new CancellationTokenSource(Bound);
        await host.StartAsync(bound.Token);

        var publish = host.Services.GetRequiredService<IInventoryEvents>().Changed(new Item(1, "one"));
        Assert.False(publish.IsCompleted);
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = port });
        await publish.WaitAsync(bound.Token);
        Assert.True(host.Services.GetRequiredService<WampHostedSession>().Session.IsConnected);
        await host.StopAsync(bound.Token);
    }

    [Fact]
    public async Task A_callee_the_router_refuses_makes_the_host_unhealthy_and_says_why()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        using var first = Host(router.Url!, services => services.AddWampCallee<IInventory, Inventory>());
        using var second = Host(router.Url!, services => services.AddWampCallee<IInventory, Inventory>().AddHealthChecks().AddWampHealthCheck());
        using var bound = new CancellationTokenSource(Bound);
        await first.StartAsync(bound.Token);
        await first.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(bound.Token);
        await second.StartAsync(bound.Token);

        // The procedure is taken by the first host's session: the second cannot register it, and says so.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => second.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(bound.Token));
        Assert.Contains("wamp.error.procedure_already_exists", e.ToString());
        var health = await second.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(bound.Token);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("could not be attached", health.Entries["wamp"].Description);
        await second.StopAsync(bound.Token);
        await first.StopAsync(bound.Token);
    }

    private static IHost Host(Uri url, Action<IServiceCollection> configure, params (string Key, string Value)[] settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([
            KeyValuePair.Create("Wamp:RouterUrl", (string?)url.ToString()),
            KeyValuePair.Create("Wamp:Realm", (string?)"realm1"),
            .. settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))]);
        builder.Services.AddSingleton<Tracker>().AddScoped<ScopeProbe>();
        builder.Services.AddWamp();
        configure(builder.Services);
        return builder.Build();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Both kinds of interceptor in one type: stamps each outgoing call, records what each invocation carried.</summary>
public sealed class TenantInterceptor : IWampCallInterceptor, IWampInvocationInterceptor
{
    public List<string?> Seen { get; } = [];

    public Task<WampResult> CallAsync(WampOutgoingCall call, WampCallContinuation next, CancellationToken cancellationToken)
    {
        call.Metadata["x_tenant"] = "acme";
        return next(call, cancellationToken);
    }

    public ValueTask<WampPayload> InvokeAsync(WampInvocation invocation, WampProcedureHandler next, CancellationToken cancellationToken)
    {
        lock (Seen) Seen.Add(invocation.GetMetadata("x_tenant"));
        return next(invocation, cancellationToken);
    }
}
