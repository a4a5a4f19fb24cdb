using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace WampContracts;

/// <summary>
/// The application payload of a WAMP message: positional arguments (a JSON array) and keyword arguments
/// (a JSON object), kept as raw UTF-8 JSON until a typed reader needs a value. Empty parts are absent.
/// </summary>
public readonly struct WampPayload
{
    private readonly ReadOnlyMemory<byte> _args;
    private readonly ReadOnlyMemory<byte> _kwargs;

    /// <summary>From JSON the caller has already checked (or the parser has): an array and an object, or empty.</summary>
    internal WampPayload(ReadOnlyMemory<byte> args, ReadOnlyMemory<byte> kwargs)
    {
        _args = IsEmptyContainer(args.Span) ? default : args;
        _kwargs = IsEmptyContainer(kwargs.Span) ? default : kwargs;
    }

    /// <summary>No arguments at all.</summary>
    public static WampPayload Empty => default;

    /// <summary>The positional arguments as a JSON array; empty when there are none.</summary>
    public ReadOnlyMemory<byte> ArgumentsJson => _args;

    /// <summary>The keyword arguments as a JSON object; empty when there are none.</summary>
    public ReadOnlyMemory<byte> KeywordArgumentsJson => _kwargs;

    public bool HasArguments => !_args.IsEmpty;

    public bool HasKeywordArguments => !_kwargs.IsEmpty;

    /// <summary>Builds a payload from JSON texts, checking that they are an array and an object.</summary>
    /// <exception cref="ArgumentException">A text is not valid JSON of the expected kind.</exception>
    public static WampPayload FromJson(string? argumentsJson, string? keywordArgumentsJson = null) =>
        FromJson(argumentsJson is null ? default : Encoding.UTF8.GetBytes(argumentsJson),
                 keywordArgumentsJson is null ? default : Encoding.UTF8.GetBytes(keywordArgumentsJson));

    /// <summary>Builds a payload from UTF-8 JSON, checking that it is an array and an object.</summary>
    /// <exception cref="ArgumentException">A part is not valid JSON of the expected kind.</exception>
    public static WampPayload FromJson(ReadOnlyMemory<byte> argumentsJson, ReadOnlyMemory<byte> keywordArgumentsJson)
    {
        Check(argumentsJson.Span, JsonTokenType.StartArray, nameof(argumentsJson));
        Check(keywordArgumentsJson.Span, JsonTokenType.StartObject, nameof(keywordArgumentsJson));
        return new WampPayload(argumentsJson, keywordArgumentsJson);
    }

    /// <summary>One positional argument: a human-readable message (how WAMP errors usually explain themselves).</summary>
    internal static WampPayload FromMessage(string message) =>
        new WampPayloadBuilder().AddArgument(message, WampRuntimeJsonContext.Default.String).Build();

    /// <summary>Serializes each argument with reflection-based System.Text.Json (<see cref="WampJson.DefaultOptions"/> unless given).</summary>
    [RequiresUnreferencedCode("Serializes arbitrary types with reflection; use WampPayloadBuilder with JsonTypeInfo for trimmed or AOT apps.")]
    [RequiresDynamicCode("Serializes arbitrary types with reflection; use WampPayloadBuilder with JsonTypeInfo for trimmed or AOT apps.")]
    public static WampPayload FromArgs(params object?[] args) => FromArgs(args, null, null);

    /// <summary>Serializes positional and keyword arguments with reflection-based System.Text.Json.</summary>
    [RequiresUnreferencedCode("Serializes arbitrary types with reflection; use WampPayloadBuilder with JsonTypeInfo for trimmed or AOT apps.")]
    [RequiresDynamicCode("Serializes arbitrary types with reflection; use WampPayloadBuilder with JsonTypeInfo for trimmed or AOT apps.")]
    public static WampPayload FromArgs(object?[]? args, IReadOnlyDictionary<string, object?>? kwargs, JsonSerializerOptions? options = null)
    {
        options ??= WampJson.DefaultOptions;
        byte[] a = args is { Length: > 0 } ? JsonSerializer.SerializeToUtf8Bytes(args, options) : [];
        byte[] k = kwargs is { Count: > 0 } ? JsonSerializer.SerializeToUtf8Bytes(kwargs, options) : [];
        return new WampPayload(a, k);
    }

    /// <summary>The number of positional arguments.</summary>
    public int ArgumentCount
    {
        get
        {
            if (_args.IsEmpty) return 0;
            var reader = new Utf8JsonReader(_args.Span, Protocol.WampMessageParser.ReaderOptions);
            reader.Read();
            int n = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                n++;
                reader.Skip();
            }
            return n;
        }
    }

    /// <summary>The raw JSON of the positional argument at <paramref name="index"/>, or empty when there is none.</summary>
    public ReadOnlyMemory<byte> GetArgumentJson(int index)
    {
        if (_args.IsEmpty || index < 0) return default;
        var reader = new Utf8JsonReader(_args.Span, Protocol.WampMessageParser.ReaderOptions);
        reader.Read();
        int i = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            int start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (i++ == index) return _args.Slice(start, (int)reader.BytesConsumed - start);
        }
        return default;
    }

    /// <summary>The raw JSON of keyword argument <paramref name="name"/>, or empty when there is none.</summary>
    public ReadOnlyMemory<byte> GetKeywordArgumentJson(string name) =>
        _kwargs.IsEmpty ? default : new Protocol.WampDict(_kwargs).GetRaw(Encoding.UTF8.GetBytes(name));

    /// <summary>Reads the positional argument at <paramref name="index"/> as <typeparamref name="T"/> without reflection.</summary>
    /// <exception cref="WampException"><c>wamp.error.invalid_argument</c> when it is missing or of the wrong shape.</exception>
    public T GetArgument<T>(int index, JsonTypeInfo<T> typeInfo)
    {
        var json = GetArgumentJson(index);
        if (json.IsEmpty)
            throw new WampException(Protocol.WampUris.InvalidArgument, $"positional argument {index} is missing");
        return Deserialize(json.Span, typeInfo, $"positional argument {index}");
    }

    /// <summary>Reads the positional argument at <paramref name="index"/>, or <paramref name="defaultValue"/> when there are fewer arguments.</summary>
    public T GetArgumentOrDefault<T>(int index, JsonTypeInfo<T> typeInfo, T defaultValue)
    {
        var json = GetArgumentJson(index);
        return json.IsEmpty ? defaultValue : Deserialize(json.Span, typeInfo, $"positional argument {index}");
    }

    /// <summary>Reads the positional argument at <paramref name="index"/> with reflection-based System.Text.Json.</summary>
    [RequiresUnreferencedCode("Deserializes with reflection; pass a JsonTypeInfo for trimmed or AOT apps.")]
    [RequiresDynamicCode("Deserializes with reflection; pass a JsonTypeInfo for trimmed or AOT apps.")]
    public T GetArgument<T>(int index, JsonSerializerOptions? options = null) =>
        GetArgument(index, (JsonTypeInfo<T>)(options ?? WampJson.DefaultOptions).GetTypeInfo(typeof(T)));

    /// <summary>Reads keyword argument <paramref name="name"/> as <typeparamref name="T"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public T GetKeywordArgument<T>(string name, JsonTypeInfo<T> typeInfo, T defaultValue = default!)
    {
        var json = GetKeywordArgumentJson(name);
        return json.IsEmpty ? defaultValue : Deserialize(json.Span, typeInfo, $"keyword argument '{name}'");
    }

    /// <summary>The positional arguments as a <see cref="JsonElement"/> array (an empty array when none).</summary>
    public JsonElement Arguments => Parse(_args.IsEmpty ? "[]"u8.ToArray() : _args);

    /// <summary>The keyword arguments as a <see cref="JsonElement"/> object (an empty object when none).</summary>
    public JsonElement KeywordArguments => Parse(_kwargs.IsEmpty ? "{}"u8.ToArray() : _kwargs);

    public override string ToString() =>
        $"args={(_args.IsEmpty ? "[]" : Encoding.UTF8.GetString(_args.Span))} kwargs={(_kwargs.IsEmpty ? "{}" : Encoding.UTF8.GetString(_kwargs.Span))}";

    private static T Deserialize<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> typeInfo, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, typeInfo)!;
        }
        catch (JsonException e)
        {
            throw new WampException(Protocol.WampUris.InvalidArgument, $"{what} cannot be read as {typeof(T).Name}: {e.Message}");
        }
    }

    private static JsonElement Parse(ReadOnlyMemory<byte> json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = Protocol.WampMessageParser.MaxDepth });
        return doc.RootElement.Clone();
    }

    private static bool IsEmptyContainer(ReadOnlySpan<byte> json) =>
        json.IsEmpty || (json.Length == 2 && (json.SequenceEqual("[]"u8) || json.SequenceEqual("{}"u8)));

    private static void Check(ReadOnlySpan<byte> json, JsonTokenType expected, string parameter)
    {
        if (json.IsEmpty) return;
        try
        {
            var reader = new Utf8JsonReader(json, Protocol.WampMessageParser.ReaderOptions);
            if (!reader.Read() || reader.TokenType != expected)
                throw new ArgumentException($"must be a JSON {(expected == JsonTokenType.StartArray ? "array" : "object")}", parameter);
            reader.Skip();
            if (reader.Read())
                throw new ArgumentException("has trailing data after the JSON value", parameter);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"is not valid JSON: {e.Message}", parameter, e);
        }
    }
}

/// <summary>
/// Builds a <see cref="WampPayload"/> one argument at a time with source-generated <see cref="JsonTypeInfo{T}"/>,
/// so no reflection is needed. Generated proxies use it; it is reusable after <see cref="Build"/>.
/// </summary>
public sealed class WampPayloadBuilder
{
    // Payloads go to other programs, not into HTML: no escaping beyond what JSON requires.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _args = new(256);
    private readonly ArrayBufferWriter<byte> _kwargs = new(64);
    private Utf8JsonWriter? _argsWriter;
    private Utf8JsonWriter? _kwargsWriter;

    public WampPayloadBuilder AddArgument<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        JsonSerializer.Serialize(ArgsWriter(), value, typeInfo);
        return this;
    }

    public WampPayloadBuilder AddRawArgument(ReadOnlySpan<byte> json)
    {
        ArgsWriter().WriteRawValue(json);
        return this;
    }

    public WampPayloadBuilder AddKeywordArgument<T>(string name, T value, JsonTypeInfo<T> typeInfo)
    {
        var w = KwargsWriter();
        w.WritePropertyName(name);
        JsonSerializer.Serialize(w, value, typeInfo);
        return this;
    }

    /// <summary>Returns the payload (copied out) and resets the builder.</summary>
    public WampPayload Build()
    {
        byte[] args = Finish(ref _argsWriter, _args, array: true);
        byte[] kwargs = Finish(ref _kwargsWriter, _kwargs, array: false);
        return new WampPayload(args, kwargs);
    }

    private Utf8JsonWriter ArgsWriter()
    {
        if (_argsWriter is null)
        {
            _argsWriter = new Utf8JsonWriter(_args, WriterOptions);
            _argsWriter.WriteStartArray();
        }
        return _argsWriter;
    }

    private Utf8JsonWriter KwargsWriter()
    {
        if (_kwargsWriter is null)
        {
            _kwargsWriter = new Utf8JsonWriter(_kwargs, WriterOptions);
            _kwargsWriter.WriteStartObject();
        }
        return _kwargsWriter;
    }

    private static byte[] Finish(ref Utf8JsonWriter? writer, ArrayBufferWriter<byte> buffer, bool array)
    {
        if (writer is null) return [];
        if (array) writer.WriteEndArray(); else writer.WriteEndObject();
        writer.Flush();
        writer.Dispose();
        writer = null;
        byte[] result = buffer.WrittenSpan.ToArray();
        buffer.Clear();
        return result;
    }
}
