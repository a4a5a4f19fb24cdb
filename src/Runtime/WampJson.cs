using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WampContracts;

/// <summary>JSON conventions of WAMP peers: camelCase names, and binary as <c>"\u0000"</c> + Base64.</summary>
internal static class WampJson
{
    /// <summary>
    /// The options reflection-based helpers use: web defaults (camelCase, case-insensitive reading), which is
    /// what JavaScript and Python peers expect, plus the WAMP binary rule for <c>byte[]</c>.
    /// </summary>
    public static JsonSerializerOptions DefaultOptions { get; } = CreateOptions();

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reflection is used only where the app enables it (JsonSerializer.IsReflectionEnabledByDefault); trimmed and AOT apps turn it off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reflection is used only where the app enables it (JsonSerializer.IsReflectionEnabledByDefault); trimmed and AOT apps turn it off.")]
    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new WampBinaryConverter());
        options.Converters.Add(new WampBinaryMemoryConverter());
        // The app's own JsonSerializerContexts first (registered by generated code), so a trimmed or Native AOT app
        // needs no options of its own; then reflection where the app allows it, else the runtime's few types.
        options.TypeInfoResolver = new WampTypeInfoResolver(JsonSerializer.IsReflectionEnabledByDefault
            ? new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()
            : WampRuntimeJsonContext.Default);
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Decodes WAMP's JSON binary string (or plain Base64) at the reader; for the binary converters.</summary>
    internal static byte[] ReadBinary(ref Utf8JsonReader reader)
    {
        string s = reader.GetString()!;
        if (TryDecodeBinary(s, out var bytes)) return bytes;
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException e)
        {
            throw new JsonException("expected a WAMP binary string (\\u0000 followed by Base64)", e);
        }
    }

    /// <summary>Encodes bytes as WAMP's JSON binary string: U+0000 followed by standard Base64.</summary>
    public static string EncodeBinary(ReadOnlySpan<byte> bytes) => "\0" + Convert.ToBase64String(bytes);

    /// <summary>Decodes a WAMP JSON binary string; false when <paramref name="value"/> does not start with U+0000.</summary>
    public static bool TryDecodeBinary(string? value, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (value is not { Length: > 0 } || value[0] != '\0') return false;
        try
        {
            bytes = Convert.FromBase64String(value[1..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// Resolves JSON metadata from the JsonSerializerContexts generated code registered (every context of a project that
/// uses contracts: <see cref="WampContractRegistry.RegisterJsonContext"/>), in the order they were registered, then
/// from the fallback.
/// </summary>
internal sealed class WampTypeInfoResolver(System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver fallback)
    : System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver
{
    private static System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver[] s_contexts = [];
    private static readonly Lock s_lock = new();

    public static void Add(System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver context)
    {
        // Copy on write: registrations happen once per context, from module initializers; reads are lock-free.
        lock (s_lock)
        {
            if (Array.IndexOf(s_contexts, context) < 0) s_contexts = [.. s_contexts, context];
        }
    }

    public System.Text.Json.Serialization.Metadata.JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
    {
        foreach (var context in Volatile.Read(ref s_contexts))
            if (context.GetTypeInfo(type, options) is { } info) return info;
        return fallback.GetTypeInfo(type, options);
    }
}

/// <summary>Reads and writes <c>byte[]</c> as WAMP's JSON binary string (<c>"\u0000"</c> + Base64); plain Base64 is read too.</summary>
public sealed class WampBinaryConverter : JsonConverter<byte[]>
{
    public override byte[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : WampJson.ReadBinary(ref reader);

    public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WampJson.EncodeBinary(value));
}

/// <summary>
/// Reads and writes <c>ReadOnlyMemory&lt;byte&gt;</c> as WAMP's JSON binary string (<c>"\u0000"</c> + Base64), which a
/// MessagePack or CBOR connection carries as binary; plain Base64 is read too.
/// </summary>
public sealed class WampBinaryMemoryConverter : JsonConverter<ReadOnlyMemory<byte>>
{
    public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? default : WampJson.ReadBinary(ref reader);

    public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WampJson.EncodeBinary(value.Span));
}
