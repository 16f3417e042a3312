#!/usr/bin/env bash
# Installs what the CLI's browser tests and the OCR dataset renderer need from Debian:
# Chromium (the HTML report test opens the report in it; playwright-core never downloads a
# browser) and, only for re-rendering data/ocr-lines, the Noto CJK fonts. The rendered images
# are committed, so the tests need no fonts. Safe to run again: each step checks first.
set -euo pipefail

want_fonts=0
for arg in "$@"; do
  case "$arg" in
  --fonts) want_fonts=1 ;;
  *)
    echo "usage: $0 [--fonts]   (--fonts: also the CJK fonts for scripts/render-ocr-lines.ts)" >&2
    exit 2
    ;;
  esac
done

if [[ "$(id -u)" != 0 ]]; then
  echo "setup-cli-tests: not root, skipping apt packages; the report test skips without /usr/bin/chromium"
  exit 0
fi
if [[ ! -r /etc/os-release ]] || ! grep -qE '^ID=debian$|^ID_LIKE=.*debian' /etc/os-release || ! command -v apt-get >/dev/null; then
  echo "setup-cli-tests: not Debian, skipping; install Chromium at /usr/bin/chromium yourself for the report test"
  exit 0
fi

packages=()
dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed' || packages+=(chromium)
if [[ "$want_fonts" == 1 ]]; then
  dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed' || packages+=(fonts-noto-cjk)
fi
if [[ ${#packages[@]} == 0 ]]; then
  echo "setup-cli-tests: chromium$([[ "$want_fonts" == 1 ]] && echo ' and fonts-noto-cjk') already installed"
  exit 0
fi
echo "setup-cli-tests: installing ${packages[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
