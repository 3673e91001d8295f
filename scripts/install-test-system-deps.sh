#!/usr/bin/env bash
# Installs what the test suite needs beyond PyPI: a PostgreSQL server (for the tests that run
# on PostgreSQL), Debian's Chromium (for the browser tests) and poppler-utils (pdftotext and
# pdftoppm, for the tests of the PDF reports). Needs root and apt-get; where
# they are missing it says what to install, and those tests skip (or fail when CI=true).
set -u
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
# The PDF reports' tests read the text and the page images of the PDFs.
command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing test system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null \
    || echo "Could not install ${missing[*]}; the tests needing them will skip or fail."
else
  echo "Not installed: ${missing[*]} (install them with apt-get as root); the tests needing them will skip."
fi
exit 0
