package raptoken

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// oauth2ExpiryDelta is golang.org/x/oauth2's defaultExpiryDelta: its ReuseTokenSource (which
// oauth2.NewClient puts in front of every TokenSource) treats a token as expired this long
// before its Expiry.
const oauth2ExpiryDelta = 10 * time.Second

// TokenSource returns a golang.org/x/oauth2 TokenSource backed by the client, so that
//
//	httpClient := oauth2.NewClient(ctx, client.TokenSource())
//
// replaces clientcredentials.Config.Client(ctx). Token returns an *oauth2.Token with TokenType
// "Bearer" and Expiry set; while the token is unchanged the same *oauth2.Token is returned to
// every caller (as oauth2.ReuseTokenSource does), so treat it as read-only.
//
// Expiry is the earlier of the token's real expiry and raptoken's refresh instant plus oauth2's
// 10-second expiry delta. oauth2.NewClient wraps the source in oauth2.ReuseTokenSource, which
// keeps a token until Expiry minus 10 s; this choice makes it come back to raptoken exactly when
// raptoken would renew, so raptoken's refresh-ahead and expiry margin stay in charge. For a
// token's real expiry use Client.TokenInfo. (oauth2's Transport does not report 401s back; use
// Client.Transport for that.)
func (c *Client) TokenSource() oauth2.TokenSource { return tokenSource{c} }

type tokenSource struct{ c *Client }

func (s tokenSource) Token() (*oauth2.Token, error) {
	if c := s.c; c != nil {
		if m := c.memo.Load(); m != nil && time.Until(m.until) > 0 {
			c.hits.add()
			return m.ot, nil
		}
	}
	info, err := s.c.wait(context.Background(), 0) // oauth2.TokenSource has no context
	if err != nil {
		return nil, err
	}
	return oauth2Token(info), nil
}

func oauth2Token(info TokenInfo) *oauth2.Token {
	expiry := info.RefreshAt.Add(oauth2ExpiryDelta)
	if info.ExpiresAt.Before(expiry) {
		expiry = info.ExpiresAt
	}
	return &oauth2.Token{AccessToken: info.Token, TokenType: "Bearer", Expiry: expiry}
}

// Transport returns an http.RoundTripper that sends each request through base (nil means
// http.DefaultTransport) with "Authorization: Bearer <token>". When the API answers 401, it
// reports the token it sent with Invalidate (the cache drops it only if it is still the cached
// one, so N concurrent 401s cause one renewal) and retries the request once with the new token,
// if the request can be replayed: it has no body, or GetBody is set (http.NewRequest sets it for
// bytes, strings and bytes.Reader bodies). Otherwise, or if the token did not change, the 401
// response is returned as it is.
//
//	httpClient := &http.Client{Transport: client.Transport(nil)}
//
// If getting a token fails, RoundTrip returns that *Error (net/http wraps it in a *url.Error).
// The request's context bounds the wait for a token being fetched (TokenContext): when it ends,
// RoundTrip returns at once with an error matching context.Canceled or
// context.DeadlineExceeded, and sends nothing.
func (c *Client) Transport(base http.RoundTripper) http.RoundTripper {
	return &transport{c: c, base: base}
}

type transport struct {
	c    *Client
	base http.RoundTripper
}

func (t *transport) baseRT() http.RoundTripper {
	if t.base != nil {
		return t.base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper. Like every RoundTripper it does not modify req: it
// sends a shallow copy with its own header map.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.c.TokenContext(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.baseRT().RoundTrip(withBearer(req, tok, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	t.c.Invalidate(tok)
	if !replayable(req) {
		return resp, nil
	}
	fresh, err := t.c.TokenContext(req.Context())
	var stopped *waitError
	if errors.As(err, &stopped) {
		drain(resp)
		return nil, err // the request's context ended: as net/http does, an error, not the 401
	}
	if err != nil || fresh == tok {
		return resp, nil // nothing better to try: hand back the API's answer
	}
	body := req.Body
	if req.Body != nil && req.Body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	drain(resp)
	return t.baseRT().RoundTrip(withBearer(req, fresh, body))
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func withBearer(req *http.Request, token string, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// drain reads a little of a discarded response so its connection can be reused, then closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}
