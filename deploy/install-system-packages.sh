#!/usr/bin/env bash
# Installs the Debian packages Closer Together needs, only those missing.
#
#   install-system-packages.sh run    what serving and the local speaker need (`make run`):
#       espeak-ng: the voice pyttsx3 drives when no Piper voice is installed, and the
#           pronunciations PocketSphinx is given for names; libportaudio2: the microphone
#           and the sound card for `closer speaker` and `closer say`.
#       (The Piper voice comes from pip: piper-tts carries its own espeak-ng phonemizer.)
#   install-system-packages.sh test   (the default) adds what the tests need (`make test`):
#       sox: audio checks; postgresql: the tests start a real server for the PostgreSQL
#       store; wrk: the load generator of `make bench`; caddy and nginx-light: the tests run
#       the shipped reverse-proxy configurations in front of the webhook (as the invoking
#       user, on free ports; the packages' own services are not needed); chromium: headless,
#       it photographs the APL documents for the README (docs/render_apl.py) and a test checks
#       that it can. The fixture voices come from install-fixture-packages.sh.
set -euo pipefail

purpose="${1:-test}"
case "$purpose" in
    run|test) ;;
    *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

needed=()
command -v espeak-ng >/dev/null || needed+=(espeak-ng)
ldconfig -p | grep -q libportaudio.so.2 || needed+=(libportaudio2)
if [ "$purpose" = test ]; then
    command -v sox >/dev/null || needed+=(sox)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
        || needed+=(postgresql)
    command -v wrk >/dev/null || needed+=(wrk)
    command -v caddy >/dev/null || needed+=(caddy)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || needed+=(nginx-light)
    command -v chromium >/dev/null || needed+=(chromium)
fi

if [ ${#needed[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing system packages ($purpose): ${needed[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${needed[@]}"
