using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace WampContracts.TypeScript;

/// <summary>
/// Reads the TypeScript files the generator put into a compiled assembly: the constant pairs <c>FileN</c>/<c>TextN</c>
/// of <c>WampContracts.Generated.WampTypeScript</c>, read from metadata without loading the assembly.
/// </summary>
public static class TypeScriptFiles
{
    public const string CarrierNamespace = "WampContracts.Generated";
    public const string CarrierName = "WampTypeScript";

    /// <summary>The files by name, in order; null when the assembly carries none (the project did not opt in, or the generator is not referenced).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>>? Read(Stream assembly)
    {
        using var pe = new PEReader(assembly, PEStreamOptions.LeaveOpen);
        if (!pe.HasMetadata) throw new InvalidDataException("not a .NET assembly");
        var reader = pe.GetMetadataReader();
        foreach (var handle in reader.TypeDefinitions)
        {
            var type = reader.GetTypeDefinition(handle);
            if (!reader.StringComparer.Equals(type.Name, CarrierName) || !reader.StringComparer.Equals(type.Namespace, CarrierNamespace)) continue;
            var constants = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var fieldHandle in type.GetFields())
            {
                var field = reader.GetFieldDefinition(fieldHandle);
                var constantHandle = field.GetDefaultValue();
                if (constantHandle.IsNil) continue;
                var constant = reader.GetConstant(constantHandle);
                if (constant.TypeCode != ConstantTypeCode.String) continue;
                var blob = reader.GetBlobReader(constant.Value);
                constants[reader.GetString(field.Name)] = blob.ReadUTF16(blob.Length);
            }
            var files = new List<KeyValuePair<string, string>>();
            for (int i = 0; constants.TryGetValue("File" + i, out var name); i++)
            {
                if (!IsPlainFileName(name)) throw new InvalidDataException($"'{name}' is not a plain file name");
                files.Add(new(name, constants.TryGetValue("Text" + i, out var text) ? text : throw new InvalidDataException($"no text for '{name}'")));
            }
            return files;
        }
        return null;
    }

    /// <summary>A name with no directory part, so nothing is written outside the output folder.</summary>
    private static bool IsPlainFileName(string name) =>
        name.Length > 0 && name.IndexOfAny(['/', '\\', '\0']) < 0 && name != "." && name != "..";
}
