using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>
    /// A minimal HTTP CONNECT proxy on loopback, to show that WithProxy is used: it records each
    /// request head (the CONNECT line and headers), then tunnels bytes both ways. TLS stays end
    /// to end between libraptoken and the real test server.
    /// </summary>
    internal sealed class ConnectProxy : IDisposable
    {
        private readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);

        internal ConnectProxy()
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            Task.Run(Accept);
        }

        internal int Port { get; }

        /// <summary>Each request head as received, e.g. "CONNECT localhost:1234 HTTP/1.1\r\nHost: ...".</summary>
        internal ConcurrentQueue<string> Heads { get; } = new ConcurrentQueue<string>();

        public void Dispose() => listener.Stop();

        private async Task Accept()
        {
            while (true)
            {
                TcpClient conn;
                try
                {
                    conn = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
                }
                catch (Exception)
                {
                    return; // stopped
                }
                _ = Task.Run(() => Tunnel(conn)); // one task per connection
            }
        }

        private async Task Tunnel(TcpClient conn)
        {
            using (conn)
            {
                var down = conn.GetStream();
                string head = ReadHead(down);
                if (head == null) return;
                Heads.Enqueue(head);
                string[] requestLine = head.Split(new[] { "\r\n" }, StringSplitOptions.None)[0].Split(' ');
                if (requestLine.Length != 3 || requestLine[0] != "CONNECT")
                {
                    Write(down, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                int colon = requestLine[1].LastIndexOf(':');
                using (var upstream = new TcpClient())
                {
                    try
                    {
                        await upstream.ConnectAsync(requestLine[1].Substring(0, colon), int.Parse(requestLine[1].Substring(colon + 1))).ConfigureAwait(false);
                    }
                    catch (Exception)
                    {
                        Write(down, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                        return;
                    }
                    Write(down, "HTTP/1.1 200 Connection established\r\n\r\n");
                    var up = upstream.GetStream();
                    // Either side closing ends the tunnel.
                    await Task.WhenAny(down.CopyToAsync(up), up.CopyToAsync(down)).ConfigureAwait(false);
                }
            }
        }

        // Byte by byte up to the blank line: nothing of the tunnelled TLS may be consumed.
        private static string ReadHead(Stream s)
        {
            var head = new StringBuilder();
            while (head.Length < 8192)
            {
                int b = s.ReadByte();
                if (b < 0) return null;
                head.Append((char)b);
                if (head.Length >= 4 && head.ToString(head.Length - 4, 4) == "\r\n\r\n") return head.ToString(0, head.Length - 4);
            }
            return null;
        }

        private static void Write(Stream s, string text)
        {
            byte[] bytes = Encoding.ASCII.GetBytes(text);
            s.Write(bytes, 0, bytes.Length);
        }
    }
}
