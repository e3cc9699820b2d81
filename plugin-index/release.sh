#!/usr/bin/env bash
# The release archives and the krew manifest. The release workflow
# (.github/workflows/release.yml) runs each step on a version tag; each runs
# here as well.
#
#   plugin-index/release.sh platforms
#       The platforms a release publishes, one os/arch a line.
#   plugin-index/release.sh [pack] [OUT_DIR]
#       Pack one archive into OUT_DIR (default target/release-archives) and
#       print its path and sha256. The platform is this machine's unless
#       OS= and ARCH= name another; BIN=path packs an already built binary
#       instead of running `cargo build --release`.
#   plugin-index/release.sh check-version TAG BIN
#       Fail unless `BIN --version` prints the version TAG names (vX.Y.Z).
#   plugin-index/release.sh manifest [--partial] VERSION DIR [OUT]
#       Write the krew manifest (default plugin-index/plugins/konduktor.yaml)
#       for VERSION from the archives in DIR: every platform's URI and sha256.
#       A platform without its archive is an error; --partial leaves it out
#       (for installing one archive with `kubectl krew install --manifest`).
#       The text around the platforms is plugin-index/konduktor.template.yaml.
#
# An archive holds kubectl-konduktor (kubectl-konduktor.exe on windows),
# kubectl_complete-konduktor, LICENSE, README.md and the docs/ it links to, with fixed owners and
# times so the same binary gives the same bytes: a .tar.gz, or for windows a
# .zip as krew expects there. Needs GNU tar (on macOS: gtar as tar) and zip.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
platforms="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64"
repo_url=https://github.com/trainy-ai/kubectl-konduktor

die() {
  echo "release.sh: $*" >&2
  exit 1
}

is_semver_v() {
  [[ $1 =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)([-+][0-9A-Za-z.+-]+)?$ ]]
}

sha256() {
  if command -v sha256sum > /dev/null; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

# The archive's file name for a version and platform.
archive_name() {
  local version=$1 os=$2 arch=$3
  if [ "$os" = windows ]; then
    echo "kubectl-konduktor_${version}_${os}_${arch}.zip"
  else
    echo "kubectl-konduktor_${version}_${os}_${arch}.tar.gz"
  fi
}

cmd_pack() {
  local out=${1:-$root/target/release-archives}
  local version os arch
  version=v$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
  os=${OS:-$(uname -s | tr '[:upper:]' '[:lower:]')}
  if [ -n "${ARCH:-}" ]; then
    arch=$ARCH
  else
    case "$(uname -m)" in
      x86_64 | amd64) arch=amd64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) die "unsupported machine $(uname -m)" ;;
    esac
  fi
  case " $platforms " in
    *" $os/$arch "*) ;;
    *) die "$os/$arch is not a published platform ($platforms)" ;;
  esac

  if [ -z "${BIN:-}" ]; then
    cargo build --release --locked --manifest-path "$root/Cargo.toml" >&2
    BIN=$root/target/release/kubectl-konduktor
  fi
  [ -f "$BIN" ] || die "BIN=$BIN is not a file"

  local exe=""
  [ "$os" = windows ] && exe=.exe
  local stage
  stage=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $stage is local
  trap "rm -rf '$stage'" EXIT
  install -m 0755 "$BIN" "$stage/kubectl-konduktor$exe"
  install -m 0755 "$root/plugin-index/kubectl_complete-konduktor" "$stage/kubectl_complete-konduktor"
  install -m 0644 "$root/LICENSE" "$stage/LICENSE"
  install -m 0644 "$root/README.md" "$stage/README.md"
  # The README's links lead into docs/: they hold in the archive too.
  mkdir -p "$stage/docs"
  install -m 0644 "$root"/docs/*.md "$stage/docs/"
  local docs
  mapfile -t docs < <(cd "$stage" && LC_ALL=C ls docs/*.md)
  local files=("kubectl-konduktor$exe" kubectl_complete-konduktor LICENSE README.md "${docs[@]}")

  local name
  name=$(archive_name "$version" "$os" "$arch")
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  rm -f "$out/$name"
  if [ "$os" = windows ]; then
    command -v zip > /dev/null || die "packing for windows needs zip"
    (
      cd "$stage"
      export TZ=UTC
      touch -t 198001010000 "${files[@]}"
      zip -q -X -D "$out/$name" "${files[@]}"
    )
  else
    tar --sort=name --mtime='1980-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner \
      -C "$stage" -cf - "${files[@]}" | gzip -n > "$out/$name"
  fi
  echo "$out/$name"
  echo "sha256: $(sha256 "$out/$name")"
}

cmd_check_version() {
  [ $# -eq 2 ] || die "usage: release.sh check-version TAG BIN"
  local tag=$1 bin=$2 printed
  is_semver_v "$tag" || die "tag \`$tag\` is not a version (vX.Y.Z)"
  printed=$("$bin" --version 2> /dev/null | head -n 1 | tr -d '\r') ||
    die "\`$bin --version\` failed"
  case "$printed" in
    "kubectl-konduktor ${tag#v} "* | "kubectl-konduktor ${tag#v}") ;;
    *) die "\`$bin --version\` prints \`$printed\`, not version ${tag#v} of tag $tag (is Cargo.toml's version the tag's?)" ;;
  esac
  echo "$printed"
}

cmd_manifest() {
  local partial=0
  if [ "${1:-}" = --partial ]; then
    partial=1
    shift
  fi
  [ $# -ge 2 ] && [ $# -le 3 ] || die "usage: release.sh manifest [--partial] VERSION DIR [OUT]"
  local version=$1 dir=$2 out=${3:-$root/plugin-index/plugins/konduktor.yaml}
  is_semver_v "$version" || die "version \`$version\` is not a semver starting with v (vX.Y.Z)"
  [ -d "$dir" ] || die "$dir is not a folder of archives"
  local template=$root/plugin-index/konduktor.template.yaml
  local body missing=() found=0 p os arch name exe sha
  body="# Written by plugin-index/release.sh manifest from konduktor.template.yaml
# and the $version archives: edit the template, never this file.
$(sed -e '/^#/d' -e "s/@VERSION@/$version/g" "$template")"
  for p in $platforms; do
    os=${p%/*}
    arch=${p#*/}
    name=$(archive_name "$version" "$os" "$arch")
    if [ ! -f "$dir/$name" ]; then
      missing+=("$name")
      continue
    fi
    found=$((found + 1))
    exe=""
    [ "$os" = windows ] && exe=.exe
    sha=$(sha256 "$dir/$name")
    body+="
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $repo_url/releases/download/$version/$name
    sha256: \"$sha\"
    bin: kubectl-konduktor$exe
    files:
      - from: kubectl-konduktor$exe
        to: .
      - from: kubectl_complete-konduktor
        to: .
      - from: LICENSE
        to: ."
  done
  if [ ${#missing[@]} -gt 0 ] && [ $partial = 0 ]; then
    die "no archive in $dir for: ${missing[*]} (build them, or pass --partial to leave those platforms out)"
  fi
  [ $found -gt 0 ] || die "no archive for $version in $dir"
  mkdir -p "$(dirname "$out")"
  printf '%s\n' "$body" > "$out.tmp"
  mv "$out.tmp" "$out"
  echo "$out"
}

case "${1:-}" in
  platforms) tr ' ' '\n' <<< "$platforms" ;;
  pack) shift; cmd_pack "$@" ;;
  check-version) shift; cmd_check_version "$@" ;;
  manifest) shift; cmd_manifest "$@" ;;
  -*) die "unknown option $1" ;;
  *) cmd_pack "$@" ;;
esac
