package raptoken

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
)

// The private_key_jwt clients and keys testing/with-jwt-clients.sh made (RAPTOKEN_TEST_JWT_*).
func jwtKey(t *testing.T, which string) string {
	t.Helper()
	p := os.Getenv("RAPTOKEN_TEST_JWT_" + which + "_KEY")
	if p == "" {
		t.Fatal("RAPTOKEN_TEST_JWT_* not set: run under testing/with-jwt-clients.sh")
	}
	return p
}

// jwtToken makes a client for a private_key_jwt client of the test server and gets one token.
func jwtToken(t *testing.T, key Option, extra ...Option) (string, error) {
	t.Helper()
	e := env(t)
	c, err := New(append([]Option{key, WithIssuer(e.issuer), WithCAFile(e.caFile)}, extra...)...)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.Token()
}

// lastRequest is what the server's token endpoint last received from clientID.
type loggedRequest struct {
	Auth      string              `json:"auth"`
	Params    map[string][]string `json:"params"`
	Assertion struct {
		Header map[string]string `json:"header"`
		Claims map[string]any    `json:"claims"`
	} `json:"client_assertion"`
}

func lastRequest(t *testing.T, clientID string) loggedRequest {
	t.Helper()
	var out struct{ Requests []loggedRequest }
	adminCall(t, "GET", "/requests?n=1&client_id="+url.QueryEscape(clientID), &out)
	if len(out.Requests) != 1 {
		t.Fatalf("no request from %s on the server", clientID)
	}
	return out.Requests[0]
}

func TestClientKeysFromFileAndText(t *testing.T) {
	tok, err := jwtToken(t, WithClientKeyFile("jwt-ec", jwtKey(t, "EC")))
	if err != nil || tok == "" {
		t.Fatalf("EC key file: %q, %v", tok, err)
	}
	if r := lastRequest(t, "jwt-ec"); r.Auth != "private_key_jwt" || r.Assertion.Header["alg"] != "ES256" {
		t.Fatalf("the server saw %+v", r)
	}
	pem, err := os.ReadFile(jwtKey(t, "RSA"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err = jwtToken(t, WithClientKey("jwt-rsa", string(pem)), WithClientKeyID("rsa-1"), WithClientKeyAlgorithm(PS256))
	if err != nil || tok == "" {
		t.Fatalf("RSA key text: %q, %v", tok, err)
	}
	r := lastRequest(t, "jwt-rsa")
	if r.Assertion.Header["alg"] != "PS256" || r.Assertion.Header["kid"] != "rsa-1" || r.Assertion.Claims["sub"] != "jwt-rsa" {
		t.Fatalf("the server saw %+v", r)
	}
	if _, ok := r.Params["client_secret"]; ok {
		t.Fatal("a client_secret parameter was sent")
	}
}

func TestWrongKeyIsOAuthInvalidClient(t *testing.T) {
	_, err := jwtToken(t, WithClientKeyFile("jwt-wrong", jwtKey(t, "WRONG")))
	var re *Error
	if !errors.Is(err, ErrOAuth) || !errors.As(err, &re) || re.OAuthCode != "invalid_client" || re.HTTPStatus != 401 {
		t.Fatalf("want OAuth invalid_client 401, got %v", err)
	}
	if !strings.Contains(re.Message, "thumbprint") {
		t.Fatalf("the message should point at the key: %s", re.Message)
	}
}

func TestClientKeyProblemsAreClearErrors(t *testing.T) {
	for _, c := range []struct{ file, want string }{{"LOOSE", "chmod 600"}, {"MALFORMED", "no END line"}} {
		path := jwtKey(t, c.file)
		_, err := jwtToken(t, WithClientKeyFile("jwt-ec", path))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: want ErrConfig naming %s and %q, got %v", c.file, path, c.want, err)
		}
	}
	const notAKey = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
	if _, err := New(WithClientKey("jwt-ec", notAKey)); !errors.Is(err, ErrInvalidArgument) || strings.Contains(err.Error(), "bm90IGEga2V5") {
		t.Fatalf("a PEM that is no key: want ErrInvalidArgument without the PEM, got %v", err)
	}
	if _, err := New(WithClientKeyFile("jwt-ec", jwtKey(t, "EC")), WithClientKeyAlgorithm(RS256)); !errors.Is(err, ErrConfig) {
		t.Fatalf("an EC key with RS256: want ErrConfig, got %v", err)
	}
	if _, err := New(WithExtraParam("client_assertion", "x")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a reserved extra parameter: want ErrInvalidArgument, got %v", err)
	}
	if ES256.String() != "ES256" || PrivateKeyJWT.String() != "PrivateKeyJWT" {
		t.Fatal("enum names")
	}
}

func TestAudienceResourceAndExtraParamsReachTheServer(t *testing.T) {
	resources := strings.Fields(os.Getenv("RAPTOKEN_TEST_RESOURCES"))
	if len(resources) < 2 {
		t.Fatal("RAPTOKEN_TEST_RESOURCES lists fewer than two resources")
	}
	key := WithClientKeyFile("jwt-params", jwtKey(t, "EC"))
	_, err := jwtToken(t, key, WithAudience("https://aud.example.test/"), WithResource(resources[0]), WithExtraParam("organization", "R&D team"))
	if err != nil {
		t.Fatal(err)
	}
	p := lastRequest(t, "jwt-params").Params
	if strings.Join(p["resource"], " ") != resources[0] || strings.Join(p["audience"], " ") != "https://aud.example.test/" ||
		strings.Join(p["organization"], " ") != "R&D team" {
		t.Fatalf("the server received %v", p)
	}
	// Two resources are both sent; this server accepts one per request (invalid_target).
	_, err = jwtToken(t, key, WithResource(resources[0]), WithResource(resources[1]))
	var re *Error
	if !errors.As(err, &re) || re.OAuthCode != "invalid_target" {
		t.Fatalf("want invalid_target, got %v", err)
	}
	if got := lastRequest(t, "jwt-params").Params["resource"]; strings.Join(got, " ") != resources[0]+" "+resources[1] {
		t.Fatalf("the server received resources %v", got)
	}
}
