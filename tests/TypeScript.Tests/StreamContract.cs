using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace WampContracts.TypeScript.Tests;

/// <summary>One step of a progressive call.</summary>
public sealed record Step(int Index, string Label);

/// <summary>A contract with progressive results, generated as a TypeScript peer by this project's own build (ts/out/generated/streams.js).</summary>
[WampService("com.example.progress")]
public interface IProgressSteps
{
    IAsyncEnumerable<Step> Count(int to, CancellationToken cancellationToken = default);
}

/// <summary>Yields steps 1…to, the later ones one timer tick apart; says when a caller stopped listening before the end.</summary>
public sealed class ProgressSteps : IProgressSteps
{
    public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async IAsyncEnumerable<Step> Count(int to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        try
        {
            for (int i = 1; i <= to; i++)
            {
                // The first steps go out at once; later ones wait, so a caller that leaves early finds the call still running.
                if (i > 3) await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
                yield return new Step(i, $"step {i}");
            }
        }
        finally
        {
            if (cancellationToken.IsCancellationRequested) Canceled.TrySetResult();
        }
    }
}

/// <summary>Source-generated JSON metadata for this contract, beside the conferences sample's.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Step))]
[JsonSerializable(typeof(int))]
public sealed partial class StepsJson : JsonSerializerContext
{
    /// <summary>The conferences sample's options, able to write steps too.</summary>
    public static WampSessionOptions SessionOptions()
    {
        var json = new JsonSerializerOptions(Conferences.ConferencesJson.Default.Options)
        {
            TypeInfoResolver = JsonTypeInfoResolver.Combine(Conferences.ConferencesJson.Default, Default),
        };
        return new WampSessionOptions { JsonSerializerOptions = json };
    }
}
