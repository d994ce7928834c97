"""targets.yaml read once per change of its content.

Parsing and validating the reviewed file with line numbers takes a third of a second; every
command needs the model. The parsed model is kept in the user's cache directory under the
digest of the file's bytes (and of the model's shape, so a new version of the tracker never
reads an old cache), so a command pays for parsing only after the file changed. Beside it are
pint's answers for the indicators' units (base factor and dimensions), so that recording a
value checks its bounds without importing pint.
"""

import dataclasses
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from tracker.domain import model as model_module
from tracker.domain import units
from tracker.domain.model import TargetsModel


def digest(data: bytes) -> str:
    """The content hash a targets file is known by (also what the database records as synced)."""
    return hashlib.sha256(data).hexdigest()


def _shape() -> str:
    """A fingerprint of the model's dataclasses: a cache made by another shape is not read."""
    parts = []
    for name in sorted(dir(model_module)):
        obj = getattr(model_module, name)
        if dataclasses.is_dataclass(obj) and isinstance(obj, type):
            parts.append(name + ":" + ",".join(f.name for f in dataclasses.fields(obj)))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tracker"


def load_targets_cached(path: str | Path) -> tuple[TargetsModel, str]:
    """(the model, the digest of the file's bytes); raises TargetsFileError as load_targets."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        from tracker.targets.errors import TargetsFileError

        raise TargetsFileError(str(path), ["line 0: file not found; create it with "
                                           "`tracker extract sources/*.txt -o targets.yaml`"]) from None
    key = digest(data)
    cached = cache_dir() / f"targets-{key[:32]}-{_shape()}.pickle"
    try:
        with cached.open("rb") as fh:
            model, bases = pickle.load(fh)
        if isinstance(model, TargetsModel):
            units.remember_bases(bases)
            return model, key
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    from tracker.targets.file import parse_targets  # parsing and validating: only on a change

    model = parse_targets(data.decode("utf-8"), str(path))
    _store(cached, model)
    return model, key


def _store(path: Path, model: TargetsModel) -> None:
    """Write the cache atomically; a cache that cannot be written is simply not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".targets-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((model, units.bases_of({i.unit for i in model.indicators})), fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
