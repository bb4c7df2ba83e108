// Command gomodzip publishes one version of a Go module into a GOPROXY directory, the layout the
// go command reads with GOPROXY=file://DIR (the module proxy protocol):
//
//	DIR/<escaped module path>/@v/list, <version>.info, <version>.mod, <version>.zip
//
// The zip is made by golang.org/x/mod/zip, the code the go command itself uses, so it obeys the
// same rules (file names, size limits, no nested modules) as a module fetched from a real proxy.
//
//	gomodzip -dir MODULE_DIR -version v0.1.0 -proxy DIR [-time RFC3339]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "the module's root directory (holds go.mod)")
	version := flag.String("version", "", "the version to publish, e.g. v0.1.0")
	proxy := flag.String("proxy", "", "the GOPROXY directory to write into")
	when := flag.String("time", "", "the version's time (RFC 3339; default now)")
	flag.Parse()
	if err := run(*dir, *version, *proxy, *when); err != nil {
		fmt.Fprintln(os.Stderr, "gomodzip:", err)
		os.Exit(1)
	}
}

func run(dir, version, proxy, when string) error {
	if dir == "" || version == "" || proxy == "" {
		return fmt.Errorf("-dir, -version and -proxy are required")
	}
	t := time.Now().UTC()
	if when != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, when); err != nil {
			return fmt.Errorf("-time: %v", err)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return fmt.Errorf("%s/go.mod has no module line", dir)
	}
	mv := module.Version{Path: path, Version: version}
	if err := module.Check(path, version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	at := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	escVersion, err := module.EscapeVersion(version)
	if err != nil {
		return err
	}
	base := filepath.Join(at, escVersion)

	if err := writeFile(base+".zip", func(f *os.File) error { return modzip.CreateFromDir(f, mv, dir) }); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	if err := writeBytes(base+".mod", gomod); err != nil {
		return err
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    string
	}{version, t.Format(time.RFC3339)})
	if err := writeBytes(base+".info", append(info, '\n')); err != nil {
		return err
	}
	// list: every version this directory serves, one per line.
	var versions []string
	if old, err := os.ReadFile(filepath.Join(at, "list")); err == nil {
		versions = strings.Fields(string(old))
	}
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	slices.Sort(versions)
	if err := writeBytes(filepath.Join(at, "list"), []byte(strings.Join(versions, "\n")+"\n")); err != nil {
		return err
	}
	fmt.Printf("%s@%s -> %s.zip\n", path, version, base)
	return nil
}

func writeBytes(name string, b []byte) error {
	return writeFile(name, func(f *os.File) error { _, err := f.Write(b); return err })
}

// writeFile writes name through a temporary file in the same directory, synced and renamed, so
// a proxy directory never serves a half-written file.
func writeFile(name string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
