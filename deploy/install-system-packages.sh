#!/usr/bin/env bash
# Installs the Debian packages Closer Together needs, only those missing.
# espeak-ng: the voice pyttsx3 drives; sox: audio checks in tests;
# libportaudio2: the microphone for `closer speaker`; postgresql: the tests start
# a real server for the PostgreSQL store; wrk: the load generator of `make bench`;
# caddy and nginx-light: the tests run the shipped reverse-proxy configurations in front
# of the webhook (as the invoking user, on free ports; the packages' own services are not
# needed). The fixture voices come from install-fixture-packages.sh.
set -euo pipefail

needed=()
command -v espeak-ng >/dev/null || needed+=(espeak-ng)
command -v sox >/dev/null || needed+=(sox)
ldconfig -p | grep -q libportaudio.so.2 || needed+=(libportaudio2)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || needed+=(postgresql)
command -v wrk >/dev/null || needed+=(wrk)
command -v caddy >/dev/null || needed+=(caddy)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || needed+=(nginx-light)

if [ ${#needed[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing system packages: ${needed[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${needed[@]}"
