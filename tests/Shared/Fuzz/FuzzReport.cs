namespace WampContracts.Testing;

/// <summary>
/// Where the fuzz tests print their figures: the test's output and, when <c>WAMP_FUZZ_REPORT</c> names a file, that
/// file too (test.sh prints it after the run, since the test runner shows the output of failed tests only).
/// </summary>
public static class FuzzReport
{
    public static void Write(Xunit.Abstractions.ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("WAMP_FUZZ_REPORT") is { Length: > 0 } path)
            File.AppendAllText(path, line + Environment.NewLine);
    }
}
