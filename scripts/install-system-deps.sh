#!/usr/bin/env bash
# Installs what the app needs from the system beyond PyPI: Pango and the libraries WeasyPrint
# loads to make the PDF reports. With root and apt-get, it installs whatever is missing; otherwise
# it stops with one line naming the packages to install. `flask --app app doctor` checks the same.
# Usage: scripts/install-system-deps.sh [python]   (the venv's python, to look the libraries up)
set -u
python=${1:-python3}
# library (as ctypes.util.find_library names it) -> Debian package
declare -A packages=(
  [gobject-2.0]=libglib2.0-0
  [pango-1.0]=libpango-1.0-0
  [pangoft2-1.0]=libpangoft2-1.0-0
  [harfbuzz]=libharfbuzz0b
  [harfbuzz-subset]=libharfbuzz-subset0
  [fontconfig]=libfontconfig1
)
missing=()
for library in "${!packages[@]}"; do
  "$python" -c "import ctypes.util, sys; sys.exit(ctypes.util.find_library('$library') is None)" 2>/dev/null \
    || missing+=("${packages[$library]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
# Pango brings GLib, HarfBuzz and fontconfig along (and their package names change between
# Debian releases): these three names cover whatever is missing.
wanted=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing the system libraries of the PDF reports: ${wanted[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq "${wanted[@]}" >/dev/null; then
    exit 0
  fi
  echo "Could not install ${wanted[*]} with apt-get: install them, then try again." >&2
  exit 1
fi
echo "Missing system libraries for the PDF reports (${missing[*]}): install ${wanted[*]} (e.g. sudo apt-get install ${wanted[*]}), then try again." >&2
exit 1
