// netstandard2.0 lacks the types that records and init-only setters compile to.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit
    {
    }
}
