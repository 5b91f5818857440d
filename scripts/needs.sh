# Sourced by scripts/setup.sh and scripts/test-setup.sh. `need PROGRAM PACKAGE` declares a
# program that berth or its tests run, with the Debian package that provides it; `install_needs`
# installs the packages of the missing programs with apt-get, and nothing when none is missing.
# test/setup-installs.test.ts checks these declarations against the programs the sources run.
# Only shell builtins are used here, so the check works whatever PATH holds.
declare -A berth_missing=()

need() {
  local program=$1 package=$2
  if [[ $program == /* ]]; then
    # An absolute path names a file of that very package, which is checked too: busybox-static's
    # /bin/busybox must be static to run inside a container, and busybox's is not.
    if [ -x "$program" ] && [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" == *"ok installed" ]]; then return 0; fi
  elif command -v "$program" >/dev/null 2>&1; then
    return 0
  fi
  berth_missing[$package]=1
}

install_needs() {
  [ "${#berth_missing[@]}" -gt 0 ] || return 0
  local packages=("${!berth_missing[@]}")
  if [ "${EUID:-$(id -u)}" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${packages[*]} with apt-get" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2
  else
    echo "missing ${packages[*]}: install them (as root: apt-get install ${packages[*]})" >&2
  fi
  berth_missing=()
}
