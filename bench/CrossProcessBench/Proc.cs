using System.Collections.Concurrent;
using System.Diagnostics;

namespace WampContracts.Bench;

/// <summary>
/// A process the bench started: its output lines are collected, every wait is bounded, and it is killed by its own
/// process id (with its children) when disposed or when its lifetime ends.
/// </summary>
internal sealed class Proc : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly Timer _lifetime;
    private readonly string _name;
    private readonly ConcurrentQueue<string> _errors = new();

    private Proc(string name, Process process, TimeSpan lifetime)
    {
        _name = name;
        _process = process;
        _lifetime = new Timer(_ => Kill(), null, lifetime, Timeout.InfiniteTimeSpan);
    }

    public int Id => _process.Id;

    public static Proc Start(string name, string command, IEnumerable<string> args, string? workingDirectory, TimeSpan lifetime,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = new Process { StartInfo = info };
        var proc = new Proc(name, process, lifetime);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) proc._lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            proc._errors.Enqueue(e.Data);
            while (proc._errors.Count > 20) proc._errors.TryDequeue(out string? dropped);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return proc;
    }

    /// <summary>The next output line containing <paramref name="marker"/> (others are skipped).</summary>
    public string WaitForLine(string marker, TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        try
        {
            while (true)
            {
                string line = _lines.Take(cts.Token);
                if (line.Contains(marker, StringComparison.Ordinal)) return line;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_name} printed no line with '{marker}' within {bound.TotalSeconds:0} s" +
                (_process.HasExited ? $" (it exited with code {_process.ExitCode})" : "") + ErrorTail);
        }
    }

    /// <summary>Every output line until the process exits (bounded), JSON lines only.</summary>
    public List<string> JsonLinesUntilExit(TimeSpan bound)
    {
        if (!_process.WaitForExit(bound)) throw new TimeoutException($"{_name} did not finish within {bound.TotalSeconds:0} s" + ErrorTail);
        _process.WaitForExit(); // flushes the output events
        if (_process.ExitCode != 0) throw new InvalidOperationException($"{_name} exited with code {_process.ExitCode}" + ErrorTail);
        var lines = new List<string>();
        while (_lines.TryTake(out var line)) if (line.StartsWith('{')) lines.Add(line);
        return lines;
    }

    /// <summary>The last lines the process wrote to stderr (shown only when it fails).</summary>
    private string ErrorTail => _errors.IsEmpty ? "" : "; its stderr ends with:\n  " + string.Join("\n  ", _errors);

    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Resident memory from /proc, in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS");
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        _lifetime.Dispose();
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
