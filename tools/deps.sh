#!/usr/bin/env bash
# Install the Debian packages telos needs, only those missing; no-op when all
# are present. Runs without a terminal (CI). Keep this list in sync with the
# README's "Dependencies".
set -euo pipefail
PKGS=(
  build-essential            # gcc, make
  pkg-config
  postgresql-15              # the database server (embedded cluster)
  postgresql-contrib         # btree_gist
  postgresql-server-dev-15   # PGXS, to build the extensions
  libpq-dev                  # libpq, the client library
  libmicrohttpd-dev          # HTTP server
  libjansson-dev             # JSON
  libsodium-dev              # API key hashing, random
  libcmocka-dev              # C unit tests
  libzstd-dev                # generic column codec (extension)
  libgsl-dev                 # distributions of the statistics (extension)
  clang-14 libclang-rt-14-dev  # libFuzzer targets of the codecs
  curl jq                    # black-box API tests
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
