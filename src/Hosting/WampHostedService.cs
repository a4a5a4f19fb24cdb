using Microsoft.Extensions.Hosting;

namespace WampContracts.Hosting;

/// <summary>Starts the hosted session with the host (without waiting for the router) and closes it when the host stops.</summary>
internal sealed class WampHostedService(WampHostedSession session) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        session.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) =>
        await session.DisposeAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
}
