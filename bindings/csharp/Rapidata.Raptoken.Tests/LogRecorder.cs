using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Rapidata.Raptoken;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>A thread-safe log callback for tests: every line with its level and thread.</summary>
    internal sealed class LogRecorder
    {
        internal sealed class Line
        {
            internal RaptokenLogLevel Level;
            internal string Text;
            internal int ThreadId;

            public override string ToString() => Level + ": " + Text;
        }

        internal ConcurrentQueue<Line> Lines { get; } = new ConcurrentQueue<Line>();

        internal void Record(RaptokenLogLevel level, string text) =>
            Lines.Enqueue(new Line { Level = level, Text = text, ThreadId = Thread.CurrentThread.ManagedThreadId });

        internal int Count(params RaptokenLogLevel[] levels) => Lines.Count(l => levels.Contains(l.Level));

        /// <summary>Every line, for assertion messages (lines never hold secrets: that is tested).</summary>
        internal string Dump() => string.Join("\n", Lines.Select(l => l.ToString()));

        /// <summary>Fails if any line contains one of <paramref name="secrets"/>.</summary>
        internal void AssertNoneContains(params string[] secrets)
        {
            foreach (var line in Lines)
                foreach (var secret in secrets)
                    if (!string.IsNullOrEmpty(secret) && line.Text.Contains(secret))
                        Assert.Fail("a log line contains a secret or token (line not shown)");
        }
    }
}
