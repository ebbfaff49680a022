#!/usr/bin/env bash
# Idempotent setup of the tools schemac's tests need on Debian 12 (Rust is
# assumed to be installed already): PostgreSQL 15 server + client binaries
# (the tests start their own throwaway cluster from
# /usr/lib/postgresql/15/bin), the plpgsql_check extension (`schemac verify`
# checks PL/pgSQL bodies with it), libclang for pg_query's bindgen, Node.js/npm,
# and dbmate 2.36.0 from npm.
#
# Runs as root, or as a user with sudo. Installs only what is missing, so a
# second run does no network access. It never starts a PostgreSQL service.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
else
  SUDO=(sudo)
fi

DBMATE_VERSION=2.36.0

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in postgresql-15 postgresql-client-15 postgresql-15-plpgsql-check libclang-dev clang; do
  is_installed "$pkg" || missing+=("$pkg")
done
# Node.js may come from elsewhere (e.g. NodeSource, whose nodejs bundles npm
# and conflicts with Debian's npm package): only the commands matter.
command -v node >/dev/null 2>&1 || is_installed nodejs || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || is_installed npm || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # Keep package scripts from starting services (Debian's postgresql package
  # would otherwise create and start a "main" cluster; our tests never use
  # it). Only add a policy-rc.d if none exists, and remove ours afterwards.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  cleanup_policy() {
    if [ "$added_policy" -eq 1 ]; then
      "${SUDO[@]}" rm -f "$policy"
    fi
  }
  trap cleanup_policy EXIT
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  cleanup_policy
  trap - EXIT
else
  echo "setup: Debian packages already installed"
fi

current=""
if command -v dbmate >/dev/null 2>&1; then
  current="$(dbmate --version 2>/dev/null | awk '{print $NF}')"
fi
if [ "$current" != "$DBMATE_VERSION" ]; then
  echo "setup: installing dbmate@$DBMATE_VERSION (found: ${current:-none})"
  "${SUDO[@]}" npm install -g "dbmate@$DBMATE_VERSION"
  hash -r
  dbmate --version
else
  echo "setup: dbmate $DBMATE_VERSION already installed"
fi

test -x /usr/lib/postgresql/15/bin/initdb || {
  echo "setup: /usr/lib/postgresql/15/bin/initdb missing after install" >&2
  exit 1
}
