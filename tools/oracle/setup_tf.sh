#!/bin/sh
# Set up the TensorFlow/Keras oracle: a virtual environment .venv-tf at the
# repository root with pinned PyPI wheels (CPU; TF's manylinux wheel, ~600 MB).
#
#   tools/oracle/setup_tf.sh         (from any directory; idempotent)
#
# Installs with pip, only when the venv does not already hold exactly these:
#   tensorflow==2.21.0 keras==3.15.1 tf-keras==2.21.0 ai-edge-litert==2.3.0
#   h5py==3.14.0 pillow==13.0.0 numpy==2.4.6 tflite-micro==0.dev20261023182759 (TFLite Micro, tools/oracle/int8)
# then checks the imports and prints the versions.
#
# Used by tools/oracle/dump/keras_dump.py, dump/litert_dump.py, bn/bn_keras.py,
# numerics/tf_numerics.py and pipelines/pipelines_tf.py
# (see docs/tf-numerics.md).
#
# Environment:
#   TF_ORACLE_PYTHON  base interpreter (default /usr/bin/python3; TF 2.21 needs 3.9-3.13)
#   TF_ORACLE_VENV    venv location (default <repo>/.venv-tf)
set -eu

die() { echo "tf oracle setup: error: $*" >&2; exit 1; }
say() { echo "tf oracle setup: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd -P) || die "cannot locate script directory"
root=$(cd "$here/../.." && pwd -P) || die "cannot locate repository root"
[ -f "$root/tools/oracle/dump/keras_dump.py" ] || die "repository root not found (looked in $root)"

py=${TF_ORACLE_PYTHON:-/usr/bin/python3}
venv=${TF_ORACLE_VENV:-$root/.venv-tf}
pins="tensorflow==2.21.0 keras==3.15.1 tf-keras==2.21.0 ai-edge-litert==2.3.0 h5py==3.14.0 pillow==13.0.0 numpy==2.4.6 tflite-micro==0.dev20261023182759"

[ -x "$py" ] || die "base interpreter $py not found"

# 1. Virtual environment ---------------------------------------------------
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)' 2>/dev/null; then
    say "venv exists: $venv"
else
    if [ -e "$venv" ]; then
        say "removing broken venv $venv"
        rm -rf "$venv"
    fi
    say "creating venv $venv (base $py)"
    "$py" -m venv "$venv" || die "venv creation failed (is python3-venv installed?)"
fi
# Keep the venv out of git without touching the repository's .gitignore.
[ -f "$venv/.gitignore" ] || printf '# created by tools/oracle/setup_tf.sh\n*\n' > "$venv/.gitignore"

# 2. Pinned packages -------------------------------------------------------
# pip's canonical names are lower case with '-' (pip freeze may print '_').
have=$("$venv/bin/python" -m pip freeze 2>/dev/null | tr 'A-Z_' 'a-z-' || true)
need=""
for p in $pins; do
    echo "$have" | grep -qx "$p" || need="$need $p"
done
if [ -n "$need" ]; then
    say "pip install:$need"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --disable-pip-version-check $pins \
        || die "pip install failed for: $pins"
else
    say "pinned packages present"
fi

# 3. Check -----------------------------------------------------------------
TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" - <<'PYEOF' || die "import check failed in $venv"
import sys
import numpy, h5py, PIL
import tensorflow as tf
import keras, tf_keras
import ai_edge_litert
from ai_edge_litert.interpreter import Interpreter  # noqa: F401
from tflite_micro import runtime as _tflm  # noqa: F401
print("python         %s (%s)" % (sys.version.split()[0], sys.executable))
print("numpy          %s" % numpy.__version__)
print("tensorflow     %s" % tf.__version__)
print("keras          %s (backend %s)" % (keras.__version__, keras.backend.backend()))
print("tf_keras       %s" % tf_keras.__version__)
try:
    from importlib.metadata import version
    print("ai-edge-litert %s" % version("ai-edge-litert"))
except Exception:  # pragma: no cover
    print("ai-edge-litert (version unknown)")
print("h5py           %s" % h5py.__version__)
print("pillow         %s" % PIL.__version__)
if keras.backend.backend() != "tensorflow":
    sys.exit("KERAS_BACKEND is %r; the oracle needs tensorflow" % keras.backend.backend())
PYEOF
say "ok: use $venv/bin/python $root/tools/oracle/dump/keras_dump.py ..."
