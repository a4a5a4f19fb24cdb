using Microsoft.Extensions.Hosting;

namespace WampContracts.Hosting;

/// <summary>
/// The lifetime of a web host that lives inside someone else's process (the router's Kestrel host, the demo's):
/// it takes no process signal and waits for nothing. The default <c>ConsoleLifetime</c> would register its own
/// SIGINT, SIGQUIT and SIGTERM handlers, swallow the signal and stop only this inner host, racing whatever shutdown
/// the application itself runs; with this lifetime the application alone decides when and how the process stops.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
