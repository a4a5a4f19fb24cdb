using System.Text.Json.Serialization;

namespace WampContracts;

/// <summary>Source-generated JSON metadata for the few values the runtime itself reads and writes.</summary>
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(long[]))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(System.Text.Json.JsonElement))]
internal sealed partial class WampRuntimeJsonContext : JsonSerializerContext;
