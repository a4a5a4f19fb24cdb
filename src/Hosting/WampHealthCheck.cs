using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WampContracts.Hosting;

/// <summary>
/// The hosted session's state: Healthy when it is joined with every callee and subscriber attached; Degraded while
/// it joins or reconnects; Unhealthy once it has ended or an attachment failed for good.
/// </summary>
internal sealed class WampHealthCheck(WampHostedSession hosted) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        WampSession session;
        try
        {
            session = hosted.Session;
        }
        catch (Exception e) when (e is ObjectDisposedException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"No WAMP session: {e.Message}"));
        }
        var data = new Dictionary<string, object> { ["realm"] = session.Realm };
        if (hosted.AttachFailure is { } failure)
            return Task.FromResult(HealthCheckResult.Unhealthy($"A WAMP callee or subscriber could not be attached: {failure}", data: data));
        if (session.Completion.IsCompleted)
            return Task.FromResult(HealthCheckResult.Unhealthy($"The WAMP session has ended ({session.CloseReason}).", data: data));
        if (!session.IsConnected)
            return Task.FromResult(HealthCheckResult.Degraded("The WAMP session is joining the router.", data: data));
        data["sessionId"] = session.SessionId;
        return Task.FromResult(hosted.IsReady
            ? HealthCheckResult.Healthy("The WAMP session is joined.", data)
            : HealthCheckResult.Degraded("The WAMP session is joined; its callees and subscribers are being attached.", data: data));
    }
}
