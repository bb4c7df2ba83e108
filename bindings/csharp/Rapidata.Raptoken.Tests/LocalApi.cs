using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>
    /// A small API on loopback (HttpListener) for BearerTokenHandler tests: it records the
    /// Authorization header and body of every request and answers 401 for tokens it was told to
    /// reject (a real resource server would, e.g. after a key rotation), 200 otherwise.
    /// </summary>
    internal sealed class LocalApi : IDisposable
    {
        private readonly HttpListener listener = new HttpListener();
        private readonly ConcurrentDictionary<string, bool> rejected = new ConcurrentDictionary<string, bool>();

        internal LocalApi()
        {
            Url = "http://127.0.0.1:" + FreePort() + "/api/";
            listener.Prefixes.Add(Url);
            listener.Start();
            Task.Run(Serve);
        }

        internal string Url { get; }

        /// <summary>Every request as (Authorization header, body), in arrival order.</summary>
        internal ConcurrentQueue<Tuple<string, string>> Seen { get; } = new ConcurrentQueue<Tuple<string, string>>();

        internal bool RejectAll { get; set; }

        internal void Reject(string token) => rejected[token] = true;

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
                ThreadPool.QueueUserWorkItem(state => Answer(ctx));
            }
        }

        private void Answer(HttpListenerContext ctx)
        {
            string auth = ctx.Request.Headers["Authorization"];
            string body;
            using (var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8)) body = reader.ReadToEnd();
            Seen.Enqueue(Tuple.Create(auth, body));
            const string prefix = "Bearer ";
            bool ok = auth != null && auth.StartsWith(prefix, StringComparison.Ordinal) && auth.Length > prefix.Length
                      && !RejectAll && !rejected.ContainsKey(auth.Substring(prefix.Length));
            ctx.Response.StatusCode = ok ? 200 : 401;
            if (!ok) ctx.Response.AddHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            byte[] answer = Encoding.UTF8.GetBytes(ok ? "{\"ok\":true}" : "{\"error\":\"invalid_token\"}");
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength64 = answer.Length;
            ctx.Response.OutputStream.Write(answer, 0, answer.Length);
            ctx.Response.Close();
        }

        private static int FreePort()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }
    }
}
