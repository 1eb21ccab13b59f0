#!/usr/bin/env bash
# Set up crcgw on a Debian machine: the Debian packages its real peers need, a virtual environment in
# .venv, and crcgw installed into it in editable mode with the development tools.
#
# Idempotent: a second run checks, finds nothing missing and returns in about a second.
# Environment: CRCGW_PYTHON (interpreter for the venv, default python3), CRCGW_SKIP_APT=1 (do not touch
# Debian packages, e.g. on a machine where you are not root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${CRCGW_PYTHON:-python3}"

# Debian packages: the SIP registrar and answering UA used by the tests and the demo peers, packet
# capture, PostgreSQL for the shared-pool tests, iproute2 for netns/netem tests, openssl for test certs, SIPp,
# Linphone, baresip's FFmpeg module (H.264),
# Chromium and its WebDriver for the status page's browser tests, prometheus for promtool.
DEBS=(kamailio kamailio-tls-modules baresip-core baresip-ffmpeg tshark postgresql iproute2 openssl
      ca-certificates chromium chromium-driver prometheus sip-tester linphone-cli)

missing=()
for pkg in "${DEBS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi

if ((${#missing[@]})) && [[ "${CRCGW_SKIP_APT:-0}" != 1 ]]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
  # tshark asks whether non-root users may capture; answer "no" without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # The kamailio package enables a system service on port 5060; crcgw starts its own instances.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
    $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
  # Likewise the prometheus package's server (only its promtool is used).
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $("$PYTHON" --version)" >&2
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the declared dependencies changed.
stamp=".venv/.crcgw-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]] || ! .venv/bin/python -c 'import gateway' 2>/dev/null; then
  echo "setup: installing crcgw and its dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1
  .venv/bin/python -m pip install -q -e ".[dev]" 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want" >"$stamp"
fi

# The media kernels compile on first use (seconds, holding the interpreter's lock) and are cached
# on disk; compile them now, once per machine, rather than in a first call (milliseconds if done).
echo "setup: compiling the media kernels (cached after the first time)" >&2
.venv/bin/python -m media.warmup
