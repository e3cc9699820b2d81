#!/usr/bin/env bash
# What the test suite needs besides cargo, checked (and, as root on Debian
# or Ubuntu, installed) before it runs, so a missing tool is said plainly
# here instead of failing a test half way:
#   kubectl   the plugin test runs the binary through it
#   unzip     the unpack script is run on a kubelet-style volume
#   busybox   ... and with busybox applets alone, as in the default image
#   script    (util-linux) runs the binary on a pseudo-terminal
set -u
missing=()
for tool in unzip busybox script; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tests/needs.sh: installing ${missing[*]} (apt-get)" >&2
  packages=()
  for tool in "${missing[@]}"; do
    case "$tool" in
      script) packages+=(bsdutils) ;;
      *) packages+=("$tool") ;;
    esac
  done
  (apt-get update -qq && apt-get install -y -qq "${packages[@]}") >/dev/null 2>&1
  missing=()
  for tool in unzip busybox script; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
fi
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/needs.sh: the test suite needs ${missing[*]} on PATH." >&2
  echo "  on Debian or Ubuntu: apt-get install unzip busybox bsdutils; kubectl as the Kubernetes docs say" >&2
  exit 1
fi
