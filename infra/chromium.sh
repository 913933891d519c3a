#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/e2e/inventory/test_web_page.py, tests/e2e/test_offline_docs.py),
# driven by Playwright for Python. Playwright's own browser download (`playwright install`) is never used.
# Usage: infra/chromium.sh install|path
#   install  apt-get install chromium when it is missing (idempotent; needs root or sudo)
#   path     print the browser's path (LIFECYCLE_CHROMIUM, default /usr/bin/chromium), or fail if it is missing
set -euo pipefail

CHROMIUM="${LIFECYCLE_CHROMIUM:-/usr/bin/chromium}"

log() { echo "chromium.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

install() {
  if [[ -x "$CHROMIUM" ]]; then
    return
  fi
  command -v apt-get >/dev/null || die "$CHROMIUM is missing and apt-get is not available; install chromium and set LIFECYCLE_CHROMIUM"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "installing chromium needs root (or sudo)"
    sudo=(sudo)
  fi
  log "installing Debian's chromium (apt-get)"
  # The package lists may be missing or stale on a fresh machine; one update, then the install.
  "${sudo[@]}" apt-get update -qq
  # Without the recommends (printing, udev, notifications), but with a font so that pages render text.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
  [[ -x "$CHROMIUM" ]] || die "apt-get installed chromium but $CHROMIUM is not there; set LIFECYCLE_CHROMIUM"
  log "installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
}

case "${1:-}" in
  install) install ;;
  path) [[ -x "$CHROMIUM" ]] || die "$CHROMIUM not found; run 'bash infra/chromium.sh install'"; echo "$CHROMIUM" ;;
  *) die "usage: $0 install|path" ;;
esac
