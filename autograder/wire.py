"""Values crossing between the grader and a student's kernel, as plain data.

A message is one file: MAGIC, the length of a JSON header (8 bytes, little
endian), the header, then the raw bytes of the arrays it carries. The header
holds a tree that says how to put the value back together and, for each array,
its dtype, shape and place among the bytes. Nothing is compressed or pickled:
the grader checks every array's size against the bytes actually there, and
rebuilds only plain types: None,
bool, int, float, str, numpy arrays of numeric or boolean dtype, numpy scalars,
tuples, lists and dicts with string keys. Anything else a student's function
returns arrives as an Opaque that names its type, so no object of the
student's ever exists in the grader's process.
"""
import json
import math
import os
import stat
from dataclasses import dataclass

import numpy as np

# dtypes an array may have on the wire (object arrays never cross)
_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128"}
_SCALAR_TYPES = {np.dtype(name).type for name in _DTYPES}
MAX_DEPTH = 8
MAX_ITEMS = 1000
MAX_STR = 2000
MAX_MESSAGE_BYTES = 64 * 2**20
MAX_NDIM = 32
MAGIC = b"nn-wire 1\n"


@dataclass(frozen=True, eq=False)
class Opaque:
    """Stands for a value the wire does not carry (an object of the student's)."""
    type_name: str
    text: str = ""

    def __repr__(self):
        return f"<{self.type_name} object>"

    def __eq__(self, other):  # a plain bool, never numpy's elementwise comparison
        return isinstance(other, Opaque) and (self.type_name, self.text) == (other.type_name, other.text)

    def __hash__(self):
        return hash((self.type_name, self.text))


@dataclass(frozen=True)
class Expr:
    """Python source the kernel evaluates to build an argument, e.g. a function
    that numerical_gradient must differentiate: "lambda x: float(np.sum(x ** 3))".
    Travels grader -> kernel only."""
    source: str

    def __repr__(self):
        return self.source


def build(value):
    """A value as a function takes it: each Expr inside becomes the object it
    describes, evaluated where this runs (the student's kernel, or the grader
    for the reference)."""
    if isinstance(value, Expr):
        import math
        return eval(value.source, {"np": np, "math": math})
    if type(value) is tuple:
        return tuple(build(v) for v in value)
    if type(value) is list:
        return [build(v) for v in value]
    if type(value) is dict:
        return {k: build(v) for k, v in value.items()}
    return value


def _type_name(value):
    # type() cannot be fooled by a __class__ property
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__qualname__


def _encode(value, arrays, depth):
    if depth > MAX_DEPTH:
        return {"kind": "opaque", "type": "nested too deep", "text": ""}
    t = type(value)
    if value is None:
        return {"kind": "none"}
    if t is bool:
        return {"kind": "bool", "value": value}
    if t is int:
        return {"kind": "int", "value": str(value)}
    if t is float:
        return {"kind": "float", "value": float.hex(value)}
    if t is str:
        return {"kind": "str", "value": value[:MAX_STR]}
    if isinstance(value, Expr):
        return {"kind": "expr", "source": value.source}
    if isinstance(value, Opaque):  # already stood for an object of the student's
        return {"kind": "opaque", "type": value.type_name, "text": value.text}
    if t in _SCALAR_TYPES:  # numpy scalars (np.float64 is also a float subclass: test it first)
        key = f"a{len(arrays)}"
        arrays[key] = np.array(np.ndarray.item(np.asarray(value)), dtype=t)
        return {"kind": "npscalar", "key": key}
    if isinstance(value, float):
        # a float subclass: carry the real number underneath, and say it was not a float
        return {"kind": "float", "value": float.hex(float.__float__(value)), "subclass": _type_name(value)}
    if isinstance(value, np.ndarray):
        base = np.ndarray.view(value, np.ndarray)  # strip any subclass without calling its methods
        if base.dtype.name not in _DTYPES:
            return {"kind": "opaque", "type": f"ndarray of dtype {base.dtype.name}", "text": ""}
        key = f"a{len(arrays)}"
        arrays[key] = np.array(base, copy=True)
        node = {"kind": "array", "key": key}
        if t is not np.ndarray:
            node["subclass"] = _type_name(value)
        return node
    if t in (tuple, list):
        items = list(value)[:MAX_ITEMS]
        return {"kind": t.__name__, "items": [_encode(v, arrays, depth + 1) for v in items]}
    if t is dict:
        out = {}
        for k in list(value)[:MAX_ITEMS]:
            if type(k) is str:
                out[k] = _encode(dict.__getitem__(value, k), arrays, depth + 1)
        return {"kind": "dict", "items": out}
    return {"kind": "opaque", "type": _type_name(value), "text": ""}


def dumps(value):
    """Encode a value as the bytes of one message."""
    arrays = {}
    tree = _encode(value, arrays, 0)
    specs, chunks, offset = {}, [], 0
    for key, array in arrays.items():
        data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("=")).tobytes()  # native byte order
        specs[key] = {"dtype": array.dtype.name, "shape": list(array.shape), "offset": offset, "nbytes": len(data)}
        chunks.append(data)
        offset += len(data)
    header = json.dumps({"tree": tree, "arrays": specs}).encode()
    return b"".join([MAGIC, len(header).to_bytes(8, "little"), header, *chunks])


def write(path, value):
    """Write a message; never through a link or into a file someone else planted."""
    data = dumps(value)
    tmp = f"{path}.part"
    if os.path.lexists(tmp):
        os.remove(tmp)  # removes a planted link itself, not its target
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)  # replaces whatever is at path (a link too), never writes through it


class WireError(ValueError):
    """A message that is not one the wire could have written."""


def _decode(node, arrays, depth, allow_expr):
    if depth > MAX_DEPTH or not isinstance(node, dict):
        raise WireError("malformed message")
    kind = node.get("kind")
    if kind == "none":
        return None
    if kind == "bool":
        return bool(node["value"])
    if kind == "int":
        text = str(node["value"])
        if len(text) > 400:
            raise WireError("integer too long")
        return int(text)
    if kind == "float":
        value = float.fromhex(str(node["value"]))
        if "subclass" in node:
            return Opaque(str(node["subclass"])[:200], repr(value))
        return value
    if kind == "str":
        return str(node["value"])[:MAX_STR]
    if kind in ("array", "npscalar"):
        array = arrays.get(str(node.get("key")))
        if not isinstance(array, np.ndarray) or array.dtype.name not in _DTYPES:
            raise WireError("malformed array")
        if kind == "npscalar":
            if array.ndim != 0:
                raise WireError("malformed scalar")
            return array[()]
        if "subclass" in node:
            return Opaque(str(node["subclass"])[:200], f"shape {array.shape}")
        return array
    if kind in ("tuple", "list"):
        items = node.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise WireError("malformed sequence")
        values = [_decode(v, arrays, depth + 1, allow_expr) for v in items]
        return tuple(values) if kind == "tuple" else values
    if kind == "dict":
        items = node.get("items")
        if not isinstance(items, dict) or len(items) > MAX_ITEMS:
            raise WireError("malformed dict")
        return {str(k): _decode(v, arrays, depth + 1, allow_expr) for k, v in items.items()}
    if kind == "opaque":
        return Opaque(str(node.get("type"))[:200], str(node.get("text", ""))[:MAX_STR])
    if kind == "expr" and allow_expr:
        return Expr(str(node["source"]))
    raise WireError(f"unknown kind {kind!r}")


def _array(spec, data, start):
    """One array of a message, from its header entry and the bytes after the header (from start)."""
    if not isinstance(spec, dict) or spec.get("dtype") not in _DTYPES:
        raise WireError("malformed array")
    shape, offset, nbytes = spec.get("shape"), spec.get("offset"), spec.get("nbytes")
    if not isinstance(shape, list) or len(shape) > MAX_NDIM or \
            not all(type(n) is int and n >= 0 for n in shape + [offset, nbytes]):
        raise WireError("malformed array")
    dtype = np.dtype(spec["dtype"])
    count = math.prod(shape)
    if count * dtype.itemsize != nbytes or start + offset + nbytes > len(data):
        raise WireError("an array's size is not the bytes the message carries")
    if count == 0:
        return np.empty(shape, dtype)
    return np.frombuffer(data, dtype, count, start + offset).reshape(shape).copy()


def loads(data, allow_expr=False):
    """Decode the bytes of one message; raises WireError for anything malformed."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(data)} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    start = len(MAGIC) + 8
    if not data.startswith(MAGIC) or len(data) < start:
        raise WireError("not a message of the wire")
    end = start + int.from_bytes(data[len(MAGIC):start], "little")
    if end > len(data):
        raise WireError("a truncated message")
    try:
        header = json.loads(data[start:end].decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WireError("unreadable message header") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), dict):
        raise WireError("malformed message")
    arrays = {str(key): _array(spec, data, end) for key, spec in header["arrays"].items()}
    return _decode(header.get("tree"), arrays, 0, allow_expr)


def read(path, allow_expr=False):
    """Read a message: a regular file only (not a link, a FIFO or a device), within the size limit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise WireError(f"the message could not be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise WireError("the message is not a regular file")
        data = f.read(MAX_MESSAGE_BYTES + 1)
    return loads(data, allow_expr=allow_expr)

