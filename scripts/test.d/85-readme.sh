#!/usr/bin/env bash
# The documentation must stay true:
# - the complete programs in the binding READMEs (each right after a "compiled by
#   scripts/test.d/85-readme.sh" marker) compile against the bindings as shown: Go
#   (README.md's C example is compiled and run by suite 20-c, the C++ README's by 40-cpp, the
#   C# README's complete files by 50-csharp, with its tests);
# - every relative link and #anchor in README.md, docs/, ARCHITECTURE.md and the binding
#   READMEs resolves.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh >/dev/null
out=target/readme
rm -rf "$out" && mkdir -p "$out/go"
passed=0
marker='<!-- compiled by scripts/test.d/85-readme.sh: keep it a complete program -->'
# example FILE LANG: the fenced LANG block right after the marker in FILE; fails if there is none.
example() {
  local text
  text=$(awk -v m="$marker" -v l="$2" '$0==m{f=1;next} f&&$0=="```"l{p=1;next} p&&/^```$/{exit} p' "$1")
  [ -n "$text" ] || { echo "$1: no \`\`\`$2 block after the marker $marker" >&2; return 1; }
  printf '%s\n' "$text"
}

example bindings/go/README.md go > "$out/go/main.go"
sed "s#=> ../../bindings/go#=> $root/bindings/go#; s#examples/go#readme/go#" examples/go/go.mod > "$out/go/go.mod"
cp examples/go/go.sum "$out/go/go.sum"
(cd "$out/go" && go vet . && go build -o example .) || { echo "bindings/go/README.md's example does not build"; exit 1; }
echo "Go README example: builds"; passed=$((passed + 1))

docs=(README.md docs/*.md bindings/*/README.md)
[ -f ARCHITECTURE.md ] && docs+=(ARCHITECTURE.md)
python3 - "${docs[@]}" <<'PY'
"""Every relative link and #anchor resolves: the file (or directory) exists inside the
repository, and an anchor names a heading (GitHub's slugs) or an <a id/name> of that file."""
import os
import re
import sys

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)


def blank(m):
    # Keep the line count, so reported line numbers stay right.
    return re.sub(r"[^\n]", " ", m.group(0))


def strip_code(text):
    text = FENCE.sub(blank, text)
    text = re.sub(r"<!--.*?-->", blank, text, flags=re.S)
    return re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", blank, text, flags=re.S)


def slug(heading):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text, not its target
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


anchor_cache = {}


def anchors(path):
    if path not in anchor_cache:
        with open(path, encoding="utf-8") as f:
            text = FENCE.sub(blank, f.read())
        seen, found = {}, set()
        for m in re.finditer(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", text))
        anchor_cache[path] = found
    return anchor_cache[path]


root = os.getcwd()
checked, broken = 0, []
for doc in sys.argv[1:]:
    with open(doc, encoding="utf-8") as f:
        text = strip_code(f.read())
    targets = [(m.start(), m.group(1)) for m in LINK.finditer(text)]
    targets += [(m.start(), m.group(1)) for m in REFDEF.finditer(text)]
    for pos, target in targets:
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check
            continue
        checked += 1
        where = f"{doc}:{text.count(chr(10), 0, pos) + 1}: {target}"
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if os.path.relpath(os.path.abspath(full), root).startswith(".."):
            broken.append(f"{where}: points outside the repository")
        elif not os.path.exists(full):
            broken.append(f"{where}: {full} does not exist")
        elif anchor and not full.endswith(".md"):
            broken.append(f"{where}: an anchor into a file that is not Markdown")
        elif anchor and anchor not in anchors(full):
            broken.append(f"{where}: {full} has no heading or <a id> for #{anchor}")
for b in broken:
    print(f"broken link: {b}")
print(f"links: {checked} checked in {len(sys.argv) - 1} files, {len(broken)} broken")
sys.exit(1 if broken else 0)
PY
echo "documentation links: resolve"; passed=$((passed + 1))
echo "readme: $passed passed, 0 failed"
