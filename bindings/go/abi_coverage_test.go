package raptoken

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The binding mirrors the whole C ABI: a function, option setter, enum value or stats field added
// to include/raptoken.h fails this test until the binding uses it (or it is listed below with
// the reason it is not called).
var notCalled = map[string]string{
	"rapidata_get_token":   "Token uses rapidata_get_token_info, which also reports the refresh instant for the memo",
	"rapidata_status_name": "Status.String names statuses; the constants are checked against the header at compile time",
}

func bindingSources(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}

func TestBindingCoversTheWholeHeader(t *testing.T) {
	header, err := os.ReadFile("../../include/raptoken.h")
	if err != nil {
		t.Fatal(err)
	}
	h := string(header)
	src := bindingSources(t)

	want := map[string]bool{}
	// Functions (setters included) and enum values.
	for _, m := range regexp.MustCompile(`\b(rapidata_[a-z0-9_]+)\(`).FindAllStringSubmatch(h, -1) {
		want[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*(RAPIDATA_[A-Z0-9_]+) = `).FindAllStringSubmatch(h, -1) {
		want[m[1]] = true
	}
	setters := 0
	for name := range want {
		if strings.HasPrefix(name, "rapidata_options_set_") {
			setters++
		}
	}
	if setters < 20 || len(want) < 50 {
		t.Fatalf("parsed only %d setters and %d names from the header: has its format changed?", setters, len(want))
	}
	var missing []string
	for name := range want {
		if _, ok := notCalled[name]; ok {
			continue
		}
		// From Go (C.name) or from a cgo preamble (name(...)).
		if !regexp.MustCompile(`\bC\.` + name + `\b|\b` + name + `\(`).MatchString(src) {
			missing = append(missing, name)
		}
	}
	// Every field of RapidataStats reaches the Go Stats.
	body := regexp.MustCompile(`(?s)typedef struct RapidataStats \{(.*?)\} RapidataStats;`).FindStringSubmatch(h)
	if body == nil {
		t.Fatal("RapidataStats not found in the header")
	}
	fields := regexp.MustCompile(`(?m)^\s*u?int\d+_t ([a-z_]+);`).FindAllStringSubmatch(body[1], -1)
	if len(fields) < 13 {
		t.Fatalf("parsed only %d RapidataStats fields", len(fields))
	}
	for _, f := range fields {
		if !strings.Contains(src, "s."+f[1]+")") {
			missing = append(missing, "RapidataStats."+f[1])
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("the Go binding does not use these parts of include/raptoken.h:\n  %s", strings.Join(missing, "\n  "))
	}
	for name := range notCalled {
		if !want[name] {
			t.Errorf("notCalled lists %s, which the header no longer has", name)
		}
	}
	t.Logf("%d functions and enum values (%d option setters) and %d stats fields covered", len(want)-len(notCalled), setters, len(fields))
}
