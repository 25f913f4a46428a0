"""nncc's dtypes are NumPy's: nncc.float32 is numpy.float32's dtype."""
import numpy as np

from .errors import InvalidArgument

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_CODES = {float32: "f32", float64: "f64", int32: "i32", int64: "i64", bool_: "bool"}
_BY_CODE = {code: dtype for dtype, code in _CODES.items()}


def as_dtype(dtype):
    """A NumPy dtype of nncc's set from a dtype, a type, a name or a code ("f32")."""
    if isinstance(dtype, str) and dtype in _BY_CODE:
        return _BY_CODE[dtype]
    if dtype is float:
        return float32
    if dtype is int:
        return int32
    try:
        d = np.dtype(dtype)
    except TypeError as e:
        raise InvalidArgument(f"not a dtype: {dtype!r}") from e
    if d not in _CODES:
        raise InvalidArgument(f"nncc has no dtype {d} (float32, float64, int32, int64, bool)")
    return d


def code(dtype):
    """The compiler's name of a dtype ("f32", ...)."""
    return _CODES[as_dtype(dtype)]
