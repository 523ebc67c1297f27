#!/bin/sh
# Set up the live PyTorch oracle: Debian's CPU-only torch/torchvision plus a
# virtual environment .venv-oracle at the repository root that sees them.
#
#   tools/oracle/setup.sh            (from any directory; idempotent)
#
# On Debian 12 this installs, with apt and only if missing:
#   python3-torch python3-torchvision python3-numpy python3-venv
# (torch 1.13.1 / torchvision 0.14.1, CPU only, a few hundred MB instead of the
# multi-GB PyPI CUDA wheels). Nothing is pip-installed.
#
# Environment:
#   ORACLE_PYTHON   base interpreter (default /usr/bin/python3, which is the one
#                   Debian's python3-torch is built for; a pyenv python3 earlier on
#                   PATH would not see it)
#   ORACLE_VENV     venv location (default <repo>/.venv-oracle)
set -eu

die() { echo "oracle setup: error: $*" >&2; exit 1; }
say() { echo "oracle setup: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd -P) || die "cannot locate script directory"
root=$(cd "$here/../.." && pwd -P) || die "cannot locate repository root"
[ -f "$root/tools/oracle/dump/torch_dump.py" ] || die "repository root not found (looked in $root)"

py=${ORACLE_PYTHON:-/usr/bin/python3}
venv=${ORACLE_VENV:-$root/.venv-oracle}
pkgs="python3-torch python3-torchvision python3-numpy python3-venv"

# 1. Debian packages -------------------------------------------------------
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
    for p in $pkgs; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$st" in
            *" installed") ;;
            *) missing="$missing $p" ;;
        esac
    done
else
    say "dpkg-query not found: not a Debian system, skipping apt (need torch, torchvision, numpy for $py)"
fi

if [ -n "$missing" ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing packages:$missing and apt-get is not available"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "missing packages:$missing; run as root or install sudo"
        sudo="sudo"
    fi
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! $sudo apt-get install -y --no-install-recommends $missing; then
        say "apt-get install failed; running apt-get update and retrying"
        $sudo apt-get update || die "apt-get update failed"
        # shellcheck disable=SC2086
        $sudo apt-get install -y --no-install-recommends $missing \
            || die "apt-get install failed for:$missing"
    fi
else
    say "Debian packages present: $pkgs"
fi

[ -x "$py" ] || die "base interpreter $py not found"

# 2. Virtual environment ---------------------------------------------------
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)' 2>/dev/null; then
    say "venv exists: $venv"
else
    if [ -e "$venv" ]; then
        say "removing broken venv $venv"
        rm -rf "$venv"
    fi
    say "creating venv $venv (--system-site-packages, base $py)"
    "$py" -m venv --system-site-packages "$venv" || die "venv creation failed (is python3-venv installed?)"
fi
# Keep the venv out of git without touching the repository's .gitignore.
[ -f "$venv/.gitignore" ] || printf '# created by tools/oracle/setup.sh\n*\n' > "$venv/.gitignore"

# 3. Check -----------------------------------------------------------------
"$venv/bin/python" - <<'EOF' || die "import check failed in $venv (torch/torchvision/numpy not visible)"
import sys
import numpy, torch, torchvision
print("python      %s (%s)" % (sys.version.split()[0], sys.executable))
print("numpy       %s" % numpy.__version__)
print("torch       %s" % torch.__version__)
print("torchvision %s" % torchvision.__version__)
print("threads     %d  mkldnn available: %s" % (torch.get_num_threads(), torch.backends.mkldnn.is_available()))
m = torchvision.models.mobilenet_v3_small(weights=None)
print("mobilenet_v3_small builds: %d parameters" % sum(p.numel() for p in m.parameters()))
EOF
say "ok: use $venv/bin/python $root/tools/oracle/dump/torch_dump.py ..."
# timm (pure Python) for the timm-tf profile's oracle; --no-deps so pip never replaces
# Debian's torch with a multi-GB CUDA wheel.
if ! "$venv/bin/python" -c "import timm" >/dev/null 2>&1; then
    "$venv/bin/pip" install -q --no-deps timm==1.0.9 huggingface_hub==2.4.0 safetensors==0.8.0 \
        filelock==4.3.1 fsspec==2026.9.0 tqdm==4.70.1 >&2 || die "pip install timm failed"
fi
"$here/setup_tf.sh" || die "TensorFlow oracle setup failed (tools/oracle/setup_tf.sh)"
