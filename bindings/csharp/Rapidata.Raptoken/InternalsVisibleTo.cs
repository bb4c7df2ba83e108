using System.Runtime.CompilerServices;

// The tests check the status enum against the library's names and count freed handles.
[assembly: InternalsVisibleTo("Rapidata.Raptoken.Tests")]
