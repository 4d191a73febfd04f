#!/usr/bin/env bash
# Install the Debian packages that the tests use. Needs root; safe to run again.
set -euo pipefail

packages=(
    # Browser: Firefox ESR, and Xvfb for headed runs.
    firefox-esr xvfb
    # Real SAML IdP served by PHP's built-in server.
    simplesamlphp php-cli php-xml php-mbstring
    # Real SMB server and Samba's own client (backup tests and benchmarks).
    samba smbclient
    # Docker engine and the tool that builds the local base image.
    docker.io mmdebstrap
    # Terminal driving for the interactive picker tests, and a simulated person at a
    # visible Firefox window.
    tmux xdotool
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done

if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
