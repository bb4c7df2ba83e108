using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace Rapidata.Raptoken
{
    /// <summary>
    /// An <see cref="HttpClient"/> pipeline stage that sends <c>Authorization: Bearer &lt;token&gt;</c>
    /// with every request. On a 401 it reports the token it sent to
    /// <see cref="RaptokenClient.Invalidate"/> (the library drops it only if it is still the cached
    /// one, so many concurrent 401s cause one renewal) and retries the request once with the
    /// current token. Request content is buffered first so the retry can send it again.
    /// Works with <c>new HttpClient(new BearerTokenHandler(client, new HttpClientHandler()))</c> and
    /// with IHttpClientFactory's <c>AddHttpMessageHandler(() =&gt; new BearerTokenHandler(client))</c>.
    /// The handler does not own the client: dispose the client yourself. Getting the token never
    /// blocks a thread (<see cref="RaptokenClient.GetTokenAsync"/>), and the request's
    /// cancellation token also ends the wait for a token being fetched.
    /// </summary>
    public sealed class BearerTokenHandler : DelegatingHandler
    {
        private readonly RaptokenClient client;

        /// <summary>For pipelines that set the inner handler (IHttpClientFactory).</summary>
        public BearerTokenHandler(RaptokenClient client)
        {
            this.client = client ?? throw new ArgumentNullException(nameof(client));
        }

        /// <summary>For <c>new HttpClient(new BearerTokenHandler(client, inner))</c>.</summary>
        public BearerTokenHandler(RaptokenClient client, HttpMessageHandler innerHandler) : base(innerHandler)
        {
            this.client = client ?? throw new ArgumentNullException(nameof(client));
        }

        /// <inheritdoc/>
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (request.Content != null)
                await request.Content.LoadIntoBufferAsync().ConfigureAwait(false);

            // Never blocks a thread: warm calls complete at once; a fetch runs on the client's
            // own thread and this request awaits it (or stops awaiting when cancelled).
            string sent = await client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sent);
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
                return response;

            client.Invalidate(sent);
            string fresh;
            try
            {
                fresh = await client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                response.Dispose(); // the caller gets the exception (cancelled, or why no token), not the 401
                throw;
            }
            if (fresh == sent)
                return response; // nothing better to offer: let the caller see the 401

            response.Dispose();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fresh);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }
}
