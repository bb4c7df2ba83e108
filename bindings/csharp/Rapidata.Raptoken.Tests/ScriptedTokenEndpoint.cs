using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>
    /// A token endpoint on loopback (plain http, which the library allows for loopback hosts) for
    /// the one answer the real test server never gives: 429 with Retry-After. It plays a script
    /// of answers, then answers every further request with a valid token response.
    /// </summary>
    internal sealed class ScriptedTokenEndpoint : IDisposable
    {
        internal const string Token = "scripted-token-0123456789abcdef";

        private readonly HttpListener listener = new HttpListener();
        private readonly ConcurrentQueue<Action<HttpListenerResponse>> script = new ConcurrentQueue<Action<HttpListenerResponse>>();
        private int requests;

        internal ScriptedTokenEndpoint(params Action<HttpListenerResponse>[] answers)
        {
            foreach (var a in answers) script.Enqueue(a);
            Url = "http://127.0.0.1:" + TestEnv.ClosedPort() + "/connect/token/";
            listener.Prefixes.Add(Url);
            listener.Start();
            Task.Run(Serve);
        }

        internal string Url { get; }

        internal int Requests => Volatile.Read(ref requests);

        /// <summary>429 Too Many Requests with Retry-After: <paramref name="seconds"/>.</summary>
        internal static Action<HttpListenerResponse> TooManyRequests(int seconds) => r =>
        {
            r.StatusCode = 429;
            r.AddHeader("Retry-After", seconds.ToString());
            Body(r, "text/plain", "Too Many Requests");
        };

        public void Dispose() => listener.Close();

        private async Task Serve()
        {
            while (true)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = await listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception)
                {
                    return; // closed
                }
                using (var drain = new StreamReader(ctx.Request.InputStream)) drain.ReadToEnd();
                Interlocked.Increment(ref requests);
                Action<HttpListenerResponse> answer;
                if (!script.TryDequeue(out answer))
                    answer = r => Body(r, "application/json",
                        "{\"access_token\":\"" + Token + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
                answer(ctx.Response);
                ctx.Response.Close();
            }
        }

        private static void Body(HttpListenerResponse r, string contentType, string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            r.ContentType = contentType;
            r.ContentLength64 = bytes.Length;
            r.OutputStream.Write(bytes, 0, bytes.Length);
        }
    }
}
