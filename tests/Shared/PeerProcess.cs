using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace WampContracts.Testing;

/// <summary>
/// A helper process for tests (a router, a peer): started with a hard lifetime, its output captured line by line,
/// and stopped by its own process id on dispose, never by name.
/// </summary>
public sealed partial class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineAdded = new(0);
    private readonly StringBuilder _log = new();

    private PeerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far (stdout and stderr), for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Starts <paramref name="fileName"/>; the process is killed after <paramref name="lifetime"/> whatever happens.</summary>
    public static PeerProcess Start(string fileName, IEnumerable<string> arguments, TimeSpan lifetime, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var peer = new PeerProcess(process);
        process.OutputDataReceived += (_, e) => peer.OnLine(e.Data, "");
        process.ErrorDataReceived += (_, e) => peer.OnLine(e.Data, "[stderr] ");
        if (!process.Start()) throw new InvalidOperationException($"could not start {fileName}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = peer.KillAfterAsync(lifetime);
        return peer;
    }

    private void OnLine(string? line, string prefix)
    {
        if (line is null) return;
        lock (_log) _log.Append(prefix).AppendLine(line);
        if (prefix.Length == 0)
        {
            _lines.Enqueue(line);
            _lineAdded.Release();
        }
    }

    private async Task KillAfterAsync(TimeSpan lifetime)
    {
        try
        {
            await _process.WaitForExitAsync(new CancellationTokenSource(lifetime).Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>Waits for a stdout line containing <paramref name="marker"/> and returns it; fails with the log if none comes in time.</summary>
    public async Task<string> WaitForLineAsync(string marker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            while (_lines.TryDequeue(out var line))
                if (line.Contains(marker, StringComparison.Ordinal)) return line;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || (_process.HasExited && _lines.IsEmpty && !await _lineAdded.WaitAsync(100)))
                throw new TimeoutException($"no line with '{marker}' within {timeout.TotalSeconds:0} s (exited: {_process.HasExited}). Output:\n{Log}");
            await _lineAdded.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Waits for the process to exit by itself; returns its exit code, or fails with the log.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the process did not exit within {timeout.TotalSeconds:0} s. Output:\n{Log}");
        }
        _process.WaitForExit(); // flush the output handlers
        return _process.ExitCode;
    }

    /// <summary>Kills the process (and its children) at once, as a crash would.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Sends SIGTERM, asking the process to stop cleanly.</summary>
    public void Terminate() => Signal(SigTerm);

    /// <summary>Signal numbers as Linux has them.</summary>
    public const int SigInt = 2, SigTerm = 15, SigCont = 18;

    /// <summary>Sends <paramref name="signal"/> to the process (libc <c>kill(pid, signal)</c>).</summary>
    public void Signal(int signal)
    {
        if (!_process.HasExited && SysKill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to every process of the group the process leads (libc <c>kill(-pid, signal)</c>),
    /// as a supervisor such as coreutils' <c>timeout</c> does. Only for a process started with <see cref="StartAsGroupLeader"/>:
    /// anything else would signal the caller's own group.
    /// </summary>
    public void SignalGroup(int signal)
    {
        if (!LeadsOwnProcessGroup)
            throw new InvalidOperationException($"process {_process.Id} does not lead a process group of its own (exited: {_process.HasExited})");
        if (SysKill(-_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill(-{_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> as the leader of a new session and process group, through util-linux's
    /// <c>setsid</c>: called by a process that is not a group leader (a child of this test host never is), it calls
    /// setsid() and execs the program without forking, so <see cref="Id"/> is the program's own pid and the group's id.
    /// Check <see cref="LeadsOwnProcessGroup"/> once the program runs, before signalling the group.
    /// </summary>
    public static PeerProcess StartAsGroupLeader(string fileName, IEnumerable<string> arguments, TimeSpan lifetime, string? workingDirectory = null)
    {
        if (!File.Exists(SetsidPath))
            throw new InvalidOperationException($"{SetsidPath} is missing: install Debian's util-linux.");
        return Start(SetsidPath, [fileName, .. arguments], lifetime, workingDirectory);
    }

    private const string SetsidPath = "/usr/bin/setsid";

    /// <summary>True while the process runs as the leader of its own process group, which is not the caller's group.</summary>
    public bool LeadsOwnProcessGroup => !_process.HasExited && SysGetpgid(_process.Id) == _process.Id && SysGetpgid(0) != _process.Id;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getpgid", SetLastError = true)]
    private static partial int SysGetpgid(int pid);

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        _process.Dispose();
    }
}
