#!/usr/bin/env bash
# Installs the Debian packages the build and the test suite need, if any are missing.
# Idempotent and quick when everything is present: it asks dpkg first and runs
# apt-get only for what is absent. Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  g++ clang libclang-rt-14-dev
  libsqlite3-dev sqlite3
  libboost-dev
  libprotobuf-dev protobuf-compiler
  libssl-dev
  libzstd-dev
  libabsl-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev postgresql
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libphonenumber-dev
  clang-format jq
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
else
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
