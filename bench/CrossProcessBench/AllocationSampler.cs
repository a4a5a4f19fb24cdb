using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace WampContracts.Bench;

/// <summary>
/// Where a process's allocations go: with <c>BENCH_ALLOCATION_TYPES</c> set to a folder, each bench process samples the
/// runtime's allocation ticks (one per ~100 KB allocated, naming the type that crossed the mark) and writes the types,
/// most sampled first, to <c>{folder}/{mode}-{pid}.txt</c> when it exits.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int AllocationTick = 10;
    private readonly ConcurrentDictionary<string, int> _samples = new();

    private static AllocationSampler? s_sampler;
    private static string? s_path;

    public static void StartIfAsked(string mode)
    {
        if (Environment.GetEnvironmentVariable("BENCH_ALLOCATION_TYPES") is not { Length: > 0 } folder) return;
        s_path = Path.Combine(folder, $"{mode}-{Environment.ProcessId}.txt");
        s_sampler = new AllocationSampler();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => WriteIfAsked();
    }

    /// <summary>Writes what was sampled so far (a process that is stopped from outside writes at each stats request).</summary>
    public static void WriteIfAsked()
    {
        if (s_sampler is { } sampler) sampler.Write(s_path!);
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventId != AllocationTick || e.Payload is null || e.PayloadNames is null) return;
        int type = e.PayloadNames.IndexOf("TypeName");
        if (type < 0) return;
        _samples.AddOrUpdate(e.Payload[type] as string ?? "?", 1, static (_, v) => v + 1);
    }

    private void Write(string path)
    {
        int total = _samples.Values.Sum();
        var lines = _samples.OrderByDescending(p => p.Value)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{100.0 * p.Value / Math.Max(total, 1),6:0.0}%  {p.Value,6}  {p.Key}"));
        File.WriteAllLines(path, lines);
    }
}
