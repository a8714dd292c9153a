#!/usr/bin/env sh
# Debian packages the tests and the audio room need. Installs them when it can (root, or sudo
# without a password); otherwise prints the one command to run. Never fails the build by itself:
# tests that need a missing program skip with the reason.
PACKAGES="espeak-ng flite sox libsndfile1 libportaudio2 libspeexdsp1 pulseaudio pulseaudio-utils libasound2-plugins chromium"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not a Debian system; install:$missing" >&2; exit 0
fi
if [ "$(id -u)" = 0 ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
  echo "system-deps: missing:$missing" >&2
  echo "system-deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 0
fi
echo "system-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 \
  || echo "system-deps: apt-get could not install all of:$missing (tests needing them will skip)" >&2
exit 0
