"""Which recognition models shinsei can run, and where their files are.

A model name (as written in settings or a form template) maps to a `ModelSpec`: how to find the
ONNX file inside an installed wheel, the file's expected sha256, and the input geometry the
network was trained with. Nothing is ever downloaded: the file must already be installed.

`model_path(name)` hands the engine a verified path. The hash is checked once per process,
so a half-written or swapped model file fails loudly instead of silently changing every reading.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ShinseiError


class ModelFileError(ShinseiError):
    """The recognition model is missing or is not the file we tested against."""

    reason = "ocr_model_invalid"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    package: str  # installed Python package that ships the file
    relpath: str  # path of the file inside that package
    sha256: str
    input_height: int
    min_width: int
    labels_key: str = "character"  # ONNX metadata key holding the dictionary, one entry per line
    # Input-width pixels per output timestep (the network's horizontal downsampling): where each
    # character's ink lies in the crop follows from it. The engine checks it on every batch.
    timestep_px: int = 8

    def locate(self) -> Path:
        """Path of the model file in the installed package (not yet verified)."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or spec.origin is None:
            raise ModelFileError(
                f"OCR model {self.name!r} needs the package {self.package!r}, which is not installed"
            )
        path = Path(spec.origin).parent / self.relpath
        if not path.is_file():
            raise ModelFileError(f"OCR model {self.name!r}: file not found at {path}")
        return path


MODELS: dict[str, ModelSpec] = {
    # PP-OCRv6 small recogniser bundled in rapidocr==3.10.0 (Apache-2.0). The hash pins the exact
    # weights the accuracy numbers in the research notes were measured with.
    "ppocrv6_small": ModelSpec(
        name="ppocrv6_small",
        package="rapidocr",
        relpath="models/PP-OCRv6_rec_small.onnx",
        sha256="6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
        input_height=48,
        # PaddleOCR pads crops to 320 px; 160 read the same on our dev pages and is ~30% faster.
        min_width=160,
    ),
}

_verified: set[tuple[Path, str]] = set()  # (file, hash it was checked against)
_lock = threading.Lock()


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        valid = ", ".join(sorted(MODELS))
        raise ValueError(f"unknown OCR model {name!r}; valid names: {valid}") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_path(name: str) -> Path:
    """Locate model `name` and check its sha256 (once per process per file)."""
    spec = get_spec(name)
    path = spec.locate()
    with _lock:
        if (path, spec.sha256) not in _verified:
            actual = sha256_file(path)
            if actual != spec.sha256:
                raise ModelFileError(
                    f"OCR model {name!r} at {path} has sha256 {actual}, expected {spec.sha256}; "
                    "reinstall the package that ships it"
                )
            _verified.add((path, spec.sha256))
    return path
