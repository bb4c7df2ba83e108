using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using NUnit.Framework;

namespace Rapidata.Raptoken.Tests
{
    /// <summary>
    /// A TCP front before the real test server's token endpoint that stalls on demand: while it
    /// holds, bytes from the client are not passed on (a new connection is accepted, so the
    /// client's connect succeeds, but its TLS handshake waits; on a kept-alive connection the
    /// request waits) until <see cref="Release"/>. Otherwise it pipes bytes unchanged both ways
    /// (TLS stays end to end). The stall lasts exactly as long as the test wants, so no test races
    /// a fixed delay. It runs on threads of its own, never the thread pool's, so the pool-thread
    /// counts the tests assert are the client's alone.
    /// </summary>
    internal sealed class StallingFront : IDisposable
    {
        private readonly Socket listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly IPEndPoint upstream;
        private readonly object gate = new object();
        private readonly List<Socket> open = new List<Socket>();
        private bool holding = true;
        private bool disposed;
        private int connections;
        private int stalls;

        /// <summary>A front that holds from the start (call <see cref="Release"/> to let bytes through).</summary>
        internal StallingFront()
        {
            upstream = new IPEndPoint(IPAddress.Loopback, new Uri(TestEnv.TokenEndpoint).Port);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(256);
            int port = ((IPEndPoint)listener.LocalEndPoint).Port;
            // 127.0.0.1: the server's certificate names it, and the front listens on IPv4 only.
            Url = "https://127.0.0.1:" + port + new Uri(TestEnv.TokenEndpoint).AbsolutePath;
            new Thread(Accept) { IsBackground = true, Name = "stalling front" }.Start();
        }

        /// <summary>The token endpoint through the front.</summary>
        internal string Url { get; }

        /// <summary>Connections accepted so far.</summary>
        internal int Connections { get { lock (gate) return connections; } }

        /// <summary>Options for a client of <paramref name="c"/> whose token requests go through the front.</summary>
        internal RaptokenOptions Options(TestCredentials c) => TestEnv.Options(c).WithTokenEndpoint(Url);

        internal RaptokenClient Client(TestCredentials c)
        {
            using (var options = Options(c)) return new RaptokenClient(options);
        }

        /// <summary>Waits (at most <paramref name="timeout"/>) until client bytes were held back
        /// <paramref name="n"/> times in all: a request (or a handshake) is stalled.</summary>
        internal void WaitForStalls(int n, TimeSpan timeout)
        {
            var until = DateTime.UtcNow + timeout;
            lock (gate)
            {
                while (stalls < n)
                {
                    var left = until - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) Assert.Fail("the front held bytes " + stalls + " time(s), expected " + n + " within " + timeout);
                    Monitor.Wait(gate, left);
                }
            }
        }

        /// <summary>Holds client bytes from now on.</summary>
        internal void Hold()
        {
            lock (gate) holding = true;
        }

        /// <summary>Passes on the held bytes and every later ones.</summary>
        internal void Release()
        {
            lock (gate)
            {
                holding = false;
                Monitor.PulseAll(gate);
            }
        }

        public void Dispose()
        {
            List<Socket> all;
            lock (gate)
            {
                disposed = true;
                holding = false;
                Monitor.PulseAll(gate);
                all = new List<Socket>(open);
            }
            listener.Close();
            foreach (var s in all) s.Close();
        }

        private void Accept()
        {
            while (true)
            {
                Socket down;
                try
                {
                    down = listener.Accept();
                }
                catch (Exception)
                {
                    return; // closed
                }
                var up = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                lock (gate)
                {
                    if (disposed)
                    {
                        down.Close();
                        return;
                    }
                    open.Add(down);
                    open.Add(up);
                    connections++;
                }
                new Thread(() => Forward(down, up)) { IsBackground = true, Name = "stalling front pump" }.Start();
            }
        }

        private void Forward(Socket down, Socket up)
        {
            try
            {
                up.Connect(upstream);
            }
            catch (Exception)
            {
                down.Close();
                up.Close();
                return;
            }
            var back = new Thread(() => Pump(up, down, false)) { IsBackground = true, Name = "stalling front pump" };
            back.Start();
            Pump(down, up, true);
            back.Join();
            down.Close();
            up.Close();
        }

        private void Pump(Socket from, Socket to, bool fromClient)
        {
            var buf = new byte[16384];
            try
            {
                int n;
                while ((n = from.Receive(buf)) > 0)
                {
                    if (fromClient)
                    {
                        lock (gate)
                        {
                            if (holding)
                            {
                                stalls++;
                                Monitor.PulseAll(gate);
                                while (holding) Monitor.Wait(gate);
                            }
                        }
                    }
                    to.Send(buf, n, SocketFlags.None);
                }
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception)
            {
                // one side went away: closing both ends the other pump
                try { from.Close(); } catch (Exception) { }
                try { to.Close(); } catch (Exception) { }
            }
        }
    }
}
