using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WampContracts.Hosting;

namespace WampContracts.Router.Tests;

/// <summary>How a process that hosts the router stops: who takes the signals.</summary>
public class HostingTests
{
    [Fact]
    public async Task The_routers_web_host_leaves_process_signals_to_the_application()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        // The default ConsoleLifetime would register for SIGINT, SIGQUIT and SIGTERM and stop only this inner host.
        Assert.IsType<EmbeddedHostLifetime>(router.HostServices!.GetRequiredService<IHostLifetime>());
    }
}
