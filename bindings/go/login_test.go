package raptoken

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// decideLogin plays the person at the browser: approves or refuses the login behind url, through
// the test server's admin API. It runs inside onURL, on a goroutine in a cgo callback, where
// t.Fatal must not be called: it returns the failure instead.
func decideLogin(admin, url, action string) error {
	i := strings.Index(url, "writeKey=")
	if i < 0 {
		return errors.New("no writeKey in " + url)
	}
	resp, err := http.Post(admin+"/login/"+action+"?writeKey="+url[i+len("writeKey="):], "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return errors.New("admin " + action + ": " + resp.Status)
	}
	return nil
}

func loginOptions(t *testing.T, file string) []Option {
	e := env(t)
	return []Option{WithIssuer(e.issuer), WithCAFile(e.caFile), WithCredentialsFile(file)}
}

func TestLoginStoresCredentialsThatNewUses(t *testing.T) {
	e := env(t)
	file := filepath.Join(t.TempDir(), "rapidata", "credentials.json")
	var seen []string
	var decided error
	err := Login(context.Background(), func(url string) {
		seen = append(seen, url)
		decided = decideLogin(e.admin, url, "approve")
	}, loginOptions(t, file)...)
	if err != nil || decided != nil {
		t.Fatalf("Login: %v; approve: %v", err, decided)
	}
	if len(seen) != 1 || !strings.Contains(seen[0], "/connect/authorize/external?clientId=rapidata-cli&scope=openid%20profile%20email%20api&writeKey=") {
		t.Fatalf("URLs: %q", seen)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	// No credentials given: the client takes the stored ones, and the API accepts its token.
	c, err := New(loginOptions(t, file)...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := c.Token()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.api, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Transport: apiTransport(t)}).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("API: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestLoginRefusedAndTimedOut(t *testing.T) {
	e := env(t)
	file := filepath.Join(t.TempDir(), "credentials.json")
	err := Login(context.Background(), func(url string) { _ = decideLogin(e.admin, url, "refuse") }, loginOptions(t, file)...)
	var re *Error
	if !errors.Is(err, ErrOAuth) || !errors.As(err, &re) || re.OAuthCode != "access_denied" || re.HTTPStatus != 403 {
		t.Fatalf("refused: %#v", err)
	}
	err = Login(context.Background(), func(string) {}, append(loginOptions(t, file), WithLoginTimeout(time.Second))...)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "login timeout") {
		t.Fatalf("timeout: %v", err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("nothing is stored: %v", err)
	}
}

func TestLoginEndsWhenTheContextIsDone(t *testing.T) {
	file := filepath.Join(t.TempDir(), "credentials.json")
	ctx, cancel := context.WithCancel(context.Background())
	var cancelledAt time.Time
	err := Login(ctx, func(string) {
		// Nobody approves; the program gives up a little later.
		go func() {
			time.Sleep(200 * time.Millisecond)
			cancelledAt = time.Now()
			cancel()
		}()
	}, append(loginOptions(t, file), WithLoginTimeout(time.Minute))...)
	late := time.Since(cancelledAt)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("want context.Canceled and ErrCancelled, got %#v", err)
	}
	// Noticed within 20 ms while waiting; 5 s covers -race and GOGC=1 on a loaded machine.
	if late > 5*time.Second {
		t.Fatalf("returned %v after the cancel", late)
	}
	// A context that is already done starts nothing.
	err = Login(ctx, func(string) { t.Error("no URL for a cancelled login") }, loginOptions(t, file)...)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("%#v", err)
	}
	// A bad option is reported before anything starts.
	if err := Login(context.Background(), nil, WithLoginTimeout(-time.Second)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("%v", err)
	}
}
