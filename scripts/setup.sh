#!/usr/bin/env bash
# Installs the Debian packages the build and tests need. Idempotent: does nothing when all are
# present. Needs root (or sudo).
set -euo pipefail
PACKAGES=(build-essential cmake pkg-config libhwy-dev nlohmann-json3-dev libgtest-dev libgmock-dev
          libsndfile1-dev libsoxr-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all build dependencies present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
