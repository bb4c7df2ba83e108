namespace Rapidata.Raptoken
{
    /// <summary>
    /// Severity of a log line (RapidataLogLevel), most severe first. Named with the prefix so it
    /// does not clash with Microsoft.Extensions.Logging.LogLevel in the same file.
    /// </summary>
    public enum RaptokenLogLevel
    {
        /// <summary>A fetch failed and no usable token was left to serve.</summary>
        Error = 1,
        /// <summary>Retries, throttling, a failed refresh while the current token is still served.</summary>
        Warn = 2,
        /// <summary>Fetch start and end (duration, attempts), discovery results.</summary>
        Info = 3,
        /// <summary>Each request.</summary>
        Debug = 4,
    }
}
