using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WampContracts;

/// <summary>
/// The names under which sessions report traces and metrics, through <see cref="System.Diagnostics"/> only (no
/// OpenTelemetry dependency): subscribe with <c>AddSource(WampTelemetry.Name)</c> and <c>AddMeter(WampTelemetry.Name)</c>.
/// Span names, attributes and instruments are listed in docs/observability.md. Nothing is recorded, and nothing is
/// allocated for it, while nobody listens.
/// </summary>
public static class WampTelemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/> and of the <see cref="Meter"/>: <c>WampContracts</c>.</summary>
    public const string Name = "WampContracts";

    internal static readonly ActivitySource Source = new(Name, Version);

    internal static readonly Meter Meter = new(Name, Version);

    private static string? Version => typeof(WampTelemetry).Assembly.GetName().Version?.ToString(3);

    internal static readonly Histogram<double> ClientDuration = Meter.CreateHistogram<double>("rpc.client.call.duration", "s",
        "Duration of one attempt of an outgoing call, from CALL to RESULT or ERROR.", advice: DurationAdvice());

    internal static readonly Histogram<double> ServerDuration = Meter.CreateHistogram<double>("rpc.server.call.duration", "s",
        "Duration of one invocation's handler, from INVOCATION to YIELD or ERROR.", advice: DurationAdvice());

    internal static readonly UpDownCounter<long> ActiveCalls = Meter.CreateUpDownCounter<long>("wamp.client.active_calls", "{call}",
        "Outgoing calls waiting for their answer.");

    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>("wamp.client.retries", "{retry}",
        "Attempts of a call made after a transient failure.");

    internal static readonly Counter<long> Timeouts = Meter.CreateCounter<long>("wamp.client.timeouts", "{timeout}",
        "Attempts of a call that ran out of time.");

    internal static readonly Counter<long> IdempotentReplays = Meter.CreateCounter<long>("wamp.server.idempotent_replays", "{replay}",
        "Invocations answered from the idempotency store instead of running the handler again.");

    /// <summary>True when someone listens to call spans or call metrics: only then does a call take the instrumented path.</summary>
    internal static bool CallsObserved => Source.HasListeners() || ClientDuration.Enabled || ActiveCalls.Enabled || Timeouts.Enabled;

    internal static bool InvocationsObserved => Source.HasListeners() || ServerDuration.Enabled;

    // Call durations are mostly milliseconds: the default bucket bounds (0, 5, 10, ... 10000) are meant for milliseconds.
    private static InstrumentAdvice<double> DurationAdvice() => new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30],
    };

    // Attribute names (OpenTelemetry RPC semantic conventions, plus wamp.* for what they do not cover).
    internal const string RpcSystem = "rpc.system";
    internal const string RpcService = "rpc.service";
    internal const string RpcMethod = "rpc.method";
    internal const string ErrorType = "error.type";
    internal const string Procedure = "wamp.procedure";
    internal const string Topic = "wamp.topic";
    internal const string Attempt = "wamp.attempt";
    internal const string SystemValue = "wamp";

    /// <summary>The span name: <c>{service}/{method}</c> for a contract method, else the URI.</summary>
    internal static string SpanName(WampMethodDescriptor? method, string uri) => method is null ? uri : method.Service + "/" + method.Name;

    internal static Activity? Start(string name, ActivityKind kind, ActivityContext parent, WampMethodDescriptor? method, string uriAttribute, string uri)
    {
        var activity = Source.StartActivity(name, kind, parent);
        if (activity is null) return null;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag(RpcSystem, SystemValue);
            if (method is not null)
            {
                activity.SetTag(RpcService, method.Service);
                activity.SetTag(RpcMethod, method.Name);
            }
            activity.SetTag(uriAttribute, uri);
        }
        return activity;
    }

    /// <summary>Marks a span failed: <c>error.type</c> is the WAMP error URI, or the exception's type.</summary>
    internal static void Fail(Activity? activity, Exception e, ref TagList tags)
    {
        string type = ErrorTypeOf(e);
        tags.Add(ErrorType, type);
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, e.Message);
        activity.SetTag(ErrorType, type);
    }

    internal static string ErrorTypeOf(Exception e) => e switch
    {
        WampException w => w.Uri,
        WampTimeoutException => "timeout",
        OperationCanceledException => "canceled",
        _ => e.GetType().FullName ?? e.GetType().Name,
    };

    internal static TagList Tags(WampMethodDescriptor? method, string uri)
    {
        var tags = new TagList { { RpcSystem, SystemValue } };
        if (method is not null)
        {
            tags.Add(RpcService, method.Service);
            tags.Add(RpcMethod, method.Name);
        }
        else
        {
            tags.Add(Procedure, uri);
        }
        return tags;
    }
}
