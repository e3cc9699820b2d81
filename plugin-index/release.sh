#!/usr/bin/env bash
# Build the release archive for this machine's platform, print its sha256,
# and record both in the krew manifest.
#
#   plugin-index/release.sh [OUT_DIR]
#
# OUT_DIR defaults to target/release-archives. BIN=path uses an already built
# binary instead of `cargo build --release`; MANIFEST=path edits another copy
# of the manifest. The archive holds kubectl-konduktor, kubectl_complete-konduktor,
# LICENSE and README.md, with fixed owners and times so a rebuild of the same
# binary gives the same bytes. Needs GNU tar (on macOS: gtar as tar).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/target/release-archives}
manifest=${MANIFEST:-$root/plugin-index/plugins/konduktor.yaml}
version=v$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)

os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "release.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
case "$os" in
  linux | darwin) ;;
  *) echo "release.sh: unsupported OS $os" >&2; exit 1 ;;
esac

if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --manifest-path "$root/Cargo.toml" >&2
  BIN=$root/target/release/kubectl-konduktor
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$BIN" "$stage/kubectl-konduktor"
install -m 0755 "$root/plugin-index/kubectl_complete-konduktor" "$stage/kubectl_complete-konduktor"
install -m 0644 "$root/LICENSE" "$stage/LICENSE"
install -m 0644 "$root/README.md" "$stage/README.md"

name="kubectl-konduktor_${version}_${os}_${arch}.tar.gz"
mkdir -p "$out"
tar --sort=name --mtime='1980-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner \
  -C "$stage" -cf - kubectl-konduktor kubectl_complete-konduktor LICENSE README.md |
  gzip -n > "$out/$name"

if command -v sha256sum > /dev/null; then
  sha=$(sha256sum "$out/$name" | cut -d ' ' -f 1)
else
  sha=$(shasum -a 256 "$out/$name" | cut -d ' ' -f 1)
fi

# Update this platform's entry (sha256 and uri) and the plugin version.
tmp=$(mktemp)
awk -v os="$os" -v arch="$arch" -v sha="$sha" -v version="$version" -v name="$name" '
  /^  version: / { print "  version: " version; next }
  /^  - selector:/ { cur_os = ""; cur_arch = "" }
  /^        os: / { cur_os = $2 }
  /^        arch: / { cur_arch = $2 }
  /^    uri: / && cur_os == os && cur_arch == arch {
    sub(/\/download\/[^\/]*\/.*$/, "/download/" version "/" name); print; next
  }
  /^    sha256: / && cur_os == os && cur_arch == arch { print "    sha256: \"" sha "\""; next }
  { print }
' "$manifest" > "$tmp"
cat "$tmp" > "$manifest"
rm -f "$tmp"

echo "$out/$name"
echo "sha256: $sha"
