#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (idempotent).
# npm packages come from the lockfile. @tensorflow/tfjs-node(-gpu) are
# optional: their install downloads libtensorflow, and where that fails the
# engine falls back to the pure-JS cpu backend.
#
# Native kernels: where apt is available and we are root (CI, Debian
# bookworm), oneDNN (libdnnl-dev) and a C++ toolchain are installed and the
# addon in native/ is built; a build failure is then an error, so CI always
# exercises the native path. Without apt the addon is built only if oneDNN
# is already there (README "Native kernels"); otherwise the engine uses the
# pure-JS kernels.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${MRCL_NATIVE:-}" != "0" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  export DEBIAN_FRONTEND=noninteractive
  # apt_install WHAT PACKAGE...: installs what is missing, refreshing the lists once if needed
  apt_install() {
    local what="$1"
    shift
    [ "$#" -gt 0 ] || return 0
    echo "setup: installing $* ($what)"
    if ! apt-get install -y --no-install-recommends "$@"; then
      apt-get update && apt-get install -y --no-install-recommends "$@" ||
        echo "setup: could not install $* ($what)"
    fi
  }
  need=()
  dpkg -s libdnnl-dev >/dev/null 2>&1 || need+=(libdnnl-dev)
  command -v g++ >/dev/null 2>&1 || need+=(g++)
  command -v make >/dev/null 2>&1 || need+=(make)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  apt_install "native kernels; without them the pure-JS kernels are used" "${need[@]}"
  # separately, so that a failure here never costs the native kernels:
  # dcm2niix converts DICOM series for `mrcl import --dicom` (and its tests);
  # PyTorch runs scripts/torch/load_encoder.py in the encoder-export test
  extra=()
  command -v dcm2niix >/dev/null 2>&1 || extra+=(dcm2niix)
  dpkg -s python3-torch >/dev/null 2>&1 || extra+=(python3-torch)
  apt_install "DICOM import and the PyTorch export check; their tests skip without them" "${extra[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# npm ci runs the same build (the package's install script) but never fails
# on it; here it must succeed wherever oneDNN is installed.
node scripts/build-native.mjs --if-available
