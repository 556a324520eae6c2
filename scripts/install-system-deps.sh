#!/usr/bin/env bash
# Install the Debian packages branchbook needs, if any is missing:
#   fonts-noto-cjk      the pinned CJK font for charts and PDFs (Noto Sans CJK SC)
#   libpango-1.0-0 libpangoft2-1.0-0   text layout for WeasyPrint (PDF)
#   poppler-utils       pdftotext / pdffonts / pdfinfo, used by the tests
#   chromium            headless browser for the browser test and screenshots
#   postgresql          a real database server for tests/test_postgres.py (the tests start
#                       their own throwaway server with initdb/pg_ctl; the system service
#                       the package may start is not used)
# Runs apt-get as root, or through sudo when available. Does nothing when all are present.
set -euo pipefail
pkgs=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium postgresql)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "system packages: all present"; exit 0; }
echo "system packages: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "error: need root or sudo to install: ${missing[*]} (apt-get install ${missing[*]})" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
