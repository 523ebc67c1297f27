"""Weights files for every oracle script: the one place that opens them.

  read_safetensors(path)          {name: numpy array}, in the file's order (numpy only)
  write_safetensors(path, arrays) float32 tensors, names sorted
  is_safetensors(path)            by suffix, or by the header's opening '{'
  torch_state_dict(path)          {name: torch.Tensor} from .safetensors or a torch.save .pth
  torch_classes(state)            rows of torchvision's classifier.3.weight (0: backbone)
  keras_classes(path, tensors)    columns of Keras's logits kernel (0: backbone)
  load_keras_weights(model, path) Keras-3-named .safetensors, or .weights.h5 / .h5

Nothing here imports torch, TensorFlow or Keras at module level: the Keras scripts
read their weights before TensorFlow is imported (its settings come from the
environment), and must not create Keras layers before the model (layer-name
counters). Errors are WeightsError with a one-line message; each script reports it
its own way.
"""

import json
import struct

import numpy as np


class WeightsError(Exception):
    """A weights file that cannot be read or does not fit the model."""


_SAFETENSORS_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
    "I8": "i1", "U8": "u1", "BOOL": "?",
    "BF16": "<u2",  # widened to float32 below
}


def _read_bytes(path, count=-1):
    try:
        with open(path, "rb") as f:
            return f.read(count)
    except OSError as e:
        raise WeightsError("cannot read weights: %s" % e) from None


def is_safetensors(path):
    """True for a .safetensors name, or an 8-byte header length followed by '{'."""
    magic = _read_bytes(path, 9)
    return path.endswith(".safetensors") or (len(magic) == 9 and magic[8:9] == b"{")


def read_safetensors(path):
    """Every tensor of a safetensors file as a writable, native-order numpy array."""
    blob = _read_bytes(path)
    if len(blob) < 8:
        raise WeightsError("%s: too short for safetensors" % path)
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > len(blob) - 8:
        raise WeightsError("%s: header length %d exceeds file size" % (path, header_len))
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise WeightsError("%s: bad JSON header: %s" % (path, e)) from None
    if not isinstance(header, dict):
        raise WeightsError("%s: header is not a JSON object" % path)
    data = memoryview(blob)[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = np.dtype(_SAFETENSORS_DTYPES[info["dtype"]])
            shape = [int(s) for s in info["shape"]]
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as e:
            raise WeightsError("%s: tensor %r: bad header entry (%s)" % (path, name, e)) from None
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (0 <= begin <= end <= len(data)) or end - begin != count * dtype.itemsize:
            raise WeightsError("%s: tensor %r: offsets [%d,%d) do not fit dtype %s shape %s (data %d bytes)"
                               % (path, name, begin, end, info["dtype"], shape, len(data)))
        arr = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
        if info["dtype"] == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = arr.astype(arr.dtype.newbyteorder("="), copy=True)
    return tensors


def write_safetensors(path, arrays):
    """Writes arrays as float32 safetensors, names sorted, header padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name], dtype="<f4")
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for data in blobs:
            f.write(data)


def torch_state_dict(path):
    """A torchvision state dict from .safetensors or torch.save (a {"state_dict": ...} wrapper too)."""
    import torch
    if is_safetensors(path):
        return {name: torch.from_numpy(arr) for name, arr in read_safetensors(path).items()}
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13: no weights_only
        state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError("%s: not a state_dict (got %s)" % (path, type(state).__name__))
    return state


def torch_classes(state):
    """Class count of a torchvision MobileNetV3 state dict; 0 when it has no classifier."""
    if "classifier.3.weight" in state:
        return int(state["classifier.3.weight"].shape[0])
    head = sorted(k for k in state if k.startswith("classifier."))
    if head:
        raise WeightsError("state dict has classifier keys %s but no classifier.3.weight" % head)
    return 0


def keras_classes(path, tensors=None):
    """Class count from the logits kernel (1,1,1024,K): in tensors (Keras 3 names) when
    given, else found by shape in a .weights.h5 / .h5 file. 0: a backbone."""
    if tensors is not None:
        kernel = tensors.get("logits/kernel")
        return int(kernel.shape[-1]) if kernel is not None else 0
    import h5py
    found = []

    def visit(_name, obj):
        # Keras 3 .weights.h5 names variables by class counters (layers/conv2d_34/vars/0),
        # so go by shape: the logits kernel is the only (1, 1, 1024, K) tensor.
        if isinstance(obj, h5py.Dataset) and len(obj.shape) == 4 and tuple(obj.shape[:3]) == (1, 1, 1024):
            found.append(int(obj.shape[-1]))
    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError as e:
        raise WeightsError("%s: not an HDF5 weights file: %s" % (path, e)) from None
    if len(set(found)) > 1:
        raise WeightsError("%s: several logits kernels %s" % (path, found))
    return found[0] if found else 0


def keras_variable_name(variable):
    """`kernel`, `bias`, `gamma`, ... of a Keras 3 or tf-keras variable."""
    short = variable.name.split("/")[-1].split(":")[0]
    return "kernel" if short == "depthwise_kernel" else short


def load_keras_weights(model, path, tensors=None, layer_pairs=None):
    """Fills a Keras model from path and returns what it read ("h5" or "safetensors (N tensors)").

    A safetensors file (tensors, if already read) holds Keras 3 names `<layer>/<variable>`;
    layer_pairs [(Keras 3 layer name, this model's layer name)] maps them onto the model
    (default: every layer with weights, under its own name). Every layer with weights must
    be filled and every tensor used. Other files go to model.load_weights.
    """
    if tensors is None and is_safetensors(path):
        tensors = read_safetensors(path)
    if tensors is None:
        try:
            model.load_weights(path)
        except Exception as e:  # Keras raises a variety of types on mismatch
            raise WeightsError("%s: load_weights failed: %s" % (path, e)) from None
        return "h5"
    layers = {layer.name: layer for layer in model.layers}
    if layer_pairs is None:
        layer_pairs = [(name, name) for name, layer in layers.items() if layer.weights]
    used, filled = set(), set()
    for keras3_name, name in layer_pairs:
        if name not in layers:
            continue  # a block without expansion or squeeze-excite
        layer = layers[name]
        values = []
        for variable in layer.weights:
            key = "%s/%s" % (keras3_name, keras_variable_name(variable))
            if key not in tensors:
                raise WeightsError("%s: missing tensor %s" % (path, key))
            arr = tensors[key]
            if tuple(arr.shape) != tuple(variable.shape):
                raise WeightsError("%s: %s has shape %s, model wants %s"
                                   % (path, key, arr.shape, tuple(variable.shape)))
            values.append(arr.astype(np.float32))
            used.add(key)
        layer.set_weights(values)
        filled.add(name)
    unfilled = [layer.name for layer in model.layers if layer.weights and layer.name not in filled]
    if unfilled:
        raise WeightsError("internal: layers with weights not mapped: %s" % unfilled)
    extra = sorted(set(tensors) - used)
    if extra:
        raise WeightsError("%s: unexpected tensors %s" % (path, extra[:8]))
    return "safetensors (%d tensors)" % len(used)
