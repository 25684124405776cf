#!/usr/bin/env bash
# Installs the C libraries decograph links against (Debian/Ubuntu). Safe to run repeatedly.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! pkg-config --exists openblas yaml-0.1 lmdb libmicrohttpd libcurl 2>/dev/null; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq libopenblas-dev libyaml-dev liblmdb-dev libmicrohttpd-dev libcurl4-openssl-dev >/dev/null
fi
