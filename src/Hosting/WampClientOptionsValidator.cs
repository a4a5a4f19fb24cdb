using Microsoft.Extensions.Options;
using WampContracts.Protocol;

namespace WampContracts.Hosting;

/// <summary>Checks <see cref="WampClientOptions"/> when the host starts; each failure names its configuration key.</summary>
internal sealed class WampClientOptionsValidator : IValidateOptions<WampClientOptions>
{
    public ValidateOptionsResult Validate(string? name, WampClientOptions options)
    {
        var failures = new List<string>();
        const string S = WampClientOptions.SectionName;
        if (options.RouterUrl is not { IsAbsoluteUri: true } url || (url.Scheme != "ws" && url.Scheme != "wss" && !(url.Scheme == "tcp" && url.Port > 0)))
            failures.Add($"{S}:RouterUrl must be an absolute ws:// or wss:// address, or tcp://host:port for RawSocket (it is '{options.RouterUrl}').");
        if (string.IsNullOrEmpty(options.Realm) || !WampUris.IsValidLoose(options.Realm))
            failures.Add($"{S}:Realm must be a realm URI such as 'realm1' (it is '{options.Realm}').");
        Positive(failures, $"{S}:ConnectTimeout", options.ConnectTimeout);
        Positive(failures, $"{S}:OperationTimeout", options.OperationTimeout);
        if (options.DefaultCallTimeout is { } callTimeout) Positive(failures, $"{S}:DefaultCallTimeout", callTimeout);
        if (options.MaxMessageSize <= 0) failures.Add($"{S}:MaxMessageSize must be positive (it is {options.MaxMessageSize}).");

        var retry = options.Retry;
        if (retry is null)
        {
            failures.Add($"{S}:Retry must not be null.");
        }
        else
        {
            if (retry.MaxAttempts is < 1 or > 5) failures.Add($"{S}:Retry:MaxAttempts must be 1 to 5 (it is {retry.MaxAttempts}).");
            NotNegative(failures, $"{S}:Retry:InitialBackoff", retry.InitialBackoff);
            NotNegative(failures, $"{S}:Retry:MaxBackoff", retry.MaxBackoff);
            NotNegative(failures, $"{S}:Retry:CalleeRestartWindow", retry.CalleeRestartWindow);
            if (!(retry.Multiplier >= 1)) failures.Add($"{S}:Retry:Multiplier must be at least 1 (it is {retry.Multiplier}).");
        }

        var reconnect = options.Reconnect;
        if (reconnect is null)
        {
            failures.Add($"{S}:Reconnect must not be null.");
        }
        else
        {
            NotNegative(failures, $"{S}:Reconnect:InitialDelay", reconnect.InitialDelay);
            NotNegative(failures, $"{S}:Reconnect:MaxDelay", reconnect.MaxDelay);
            if (!(reconnect.Multiplier >= 1)) failures.Add($"{S}:Reconnect:Multiplier must be at least 1 (it is {reconnect.Multiplier}).");
            if (reconnect.MaxAttempts is < 1) failures.Add($"{S}:Reconnect:MaxAttempts must be at least 1, or absent to keep trying (it is {reconnect.MaxAttempts}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero) failures.Add($"{key} must be positive (it is {value}).");
    }

    private static void NotNegative(List<string> failures, string key, TimeSpan value)
    {
        if (value < TimeSpan.Zero) failures.Add($"{key} must not be negative (it is {value}).");
    }
}
