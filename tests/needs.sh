#!/usr/bin/env bash
# What the test suite needs besides cargo, checked (and installed where it
# can be) before it runs, so a missing tool is said plainly here instead of
# failing a test half way:
#   kubectl           the plugin test runs the binary through it
#   unzip             the unpack script is run on a kubelet-style volume
#   busybox           ... and with busybox applets alone, as in the default image
#   script            (util-linux) runs the binary on a pseudo-terminal
#   zip               plugin-index/release.sh packs the windows archive
#   check-jsonschema  validates .github/workflows against the workflow schema
#   zizmor            audits .github/workflows (offline)
# The first five come from apt-get (installed as root on Debian or Ubuntu);
# the last two from the Python registry, installed for the user who runs
# the tests (with pipx, or pip --user). `tests/needs.sh python` does only
# this part and prints where each tool is; exit 3 when the registry cannot
# be reached.
set -u
py_specs=(check-jsonschema==0.39.0 zizmor==1.32.0)

# Where pip and pipx put programs, besides PATH.
py_bins() {
  echo "$HOME/.local/bin"
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import site, sysconfig; print(site.USER_BASE + "/bin"); print(sysconfig.get_path("scripts"))' 2>/dev/null
  fi
}

# The full path of a Python tool, or nothing.
py_tool() {
  local dir
  command -v "$1" 2>/dev/null && return 0
  while read -r dir; do
    [ -x "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done < <(py_bins)
  return 1
}

python_tools() {
  local missing=() spec
  for spec in "${py_specs[@]}"; do
    py_tool "${spec%%==*}" >/dev/null || missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v pipx >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then
    echo "tests/needs.sh: installing ${missing[*]} needs pipx or python3" >&2
    return 1
  fi
  echo "tests/needs.sh: installing ${missing[*]} from the Python registry" >&2
  local log
  log=$(mktemp)
  for spec in "${missing[@]}"; do
    # pipx; else pip for this user; else into the active virtualenv; else
    # for this user past a distribution's "externally managed" guard.
    if command -v pipx >/dev/null 2>&1; then
      pipx install --quiet "$spec" >"$log" 2>&1
    else
      python3 -m pip install --quiet --user "$spec" >"$log" 2>&1 ||
        python3 -m pip install --quiet "$spec" >>"$log" 2>&1 ||
        python3 -m pip install --quiet --user --break-system-packages "$spec" >>"$log" 2>&1
    fi || {
      if grep -qiE 'connection|resolve|network|timed out|unreachable|proxy|from versions: none' "$log"; then
        echo "tests/needs.sh: the Python registry is unreachable; could not install $spec:" >&2
        tail -n 3 "$log" >&2
        rm -f "$log"
        return 3
      fi
      echo "tests/needs.sh: could not install $spec (pipx install $spec, or pip install --user $spec):" >&2
      tail -n 5 "$log" >&2
      rm -f "$log"
      return 1
    }
  done
  rm -f "$log"
  for spec in "${py_specs[@]}"; do
    py_tool "${spec%%==*}" >/dev/null || {
      echo "tests/needs.sh: ${spec%%==*} was installed but cannot be found (PATH, ~/.local/bin)" >&2
      return 1
    }
  done
}

# `tests/needs.sh python`: only the Python tools; prints NAME=PATH for each.
if [ "${1:-}" = python ]; then
  python_tools || exit $?
  for spec in "${py_specs[@]}"; do
    echo "${spec%%==*}=$(py_tool "${spec%%==*}")"
  done
  exit 0
fi

apt_tools=(unzip busybox script zip)
missing=()
for tool in "${apt_tools[@]}"; do
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
  for tool in "${apt_tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
fi
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
# The release tests' tools, said apart: zip, and the Python ones, which
# belong to the user who runs the tests (under sudo, as CI runs
# `sudo tests/needs.sh` before .ci/run, they are left to that user).
release_missing=()
for tool in "${missing[@]}"; do
  [ "$tool" = zip ] && release_missing+=(zip)
done
core_missing=()
for tool in "${missing[@]}"; do
  [ "$tool" = zip ] || core_missing+=("$tool")
done
if [ -z "${SUDO_USER:-}" ]; then
  python_tools || release_missing+=(check-jsonschema zizmor)
fi
if [ ${#core_missing[@]} -gt 0 ]; then
  echo "tests/needs.sh: the test suite needs ${core_missing[*]} on PATH." >&2
  echo "  on Debian or Ubuntu: apt-get install unzip busybox bsdutils zip; kubectl as the Kubernetes docs say" >&2
fi
if [ ${#release_missing[@]} -gt 0 ]; then
  echo "tests/needs.sh: the release and workflow tests need ${release_missing[*]} on PATH." >&2
  echo "  apt-get install zip; pipx install check-jsonschema zizmor (or pip install --user)" >&2
fi
[ ${#core_missing[@]} -eq 0 ] && [ ${#release_missing[@]} -eq 0 ]
