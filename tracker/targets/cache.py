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
import re
import tempfile
from pathlib import Path

from tracker.domain import model as model_module
from tracker.domain import units
from tracker.domain.model import TargetsModel


def digest(data: bytes) -> str:
    """The content hash a targets file is known by (also what the database records as synced)."""
    return hashlib.sha256(data).hexdigest()


_INCLUDE = re.compile(rb"^include:[ \t]*(?:\[[^\]\n]*\]|[^\s#][^\n#]*)?(?:\n(?:[ \t]*-[^\n]*|[ \t]*#[^\n]*|[ \t]*(?=\n)))*",
                      re.M)


def included_files(path: str | Path, data: bytes) -> list[Path]:
    """The files targets.yaml's top-level `include:` names (relative to it), found without
    parsing the whole file: what its digest and a change of it depend on too."""
    m = _INCLUDE.search(data)
    if m is None:
        return []
    import yaml

    try:
        names = yaml.safe_load(m.group(0).decode("utf-8")).get("include")
    except (yaml.YAMLError, UnicodeDecodeError, AttributeError):
        return []  # the parser names what is wrong with it
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list):
        return []
    return [Path(path).parent / str(n) for n in names if isinstance(n, str)]


def _with_included(path: str | Path, data: bytes) -> tuple[str, list[Path]]:
    """The digest of targets.yaml and of every file it includes, and those files."""
    files = included_files(path, data)
    if not files:
        return digest(data), files
    h = hashlib.sha256(data)
    for f in files:
        try:
            part = f.read_bytes()
        except OSError:
            part = b"\0missing"
        h.update(b"\0" + str(f).encode() + b"\0" + hashlib.sha256(part).digest())
    return h.hexdigest(), files


def stamp(path: str | Path, included: list[Path]) -> tuple | None:
    """(mtime, size) of targets.yaml and of the files it included when last read: what tells a
    long-running process to read the model again. None when targets.yaml is missing."""
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return None
    out: list[tuple[int, int] | None] = [(st.st_mtime_ns, st.st_size)]
    for f in included:
        try:
            fs = f.stat()
            out.append((fs.st_mtime_ns, fs.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


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
    """(the model, the digest of the file's bytes and of the files it includes); raises
    TargetsFileError as load_targets."""
    model, key, _ = load_targets_with_includes(path)
    return model, key


def load_targets_with_includes(path: str | Path) -> tuple[TargetsModel, str, list[Path]]:
    """As load_targets_cached, with the files targets.yaml includes."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        from tracker.targets.errors import TargetsFileError

        raise TargetsFileError(str(path), ["line 0: file not found; create it with "
                                           "`tracker extract sources/*.txt -o targets.yaml`"]) from None
    key, files = _with_included(path, data)
    cached = cache_dir() / f"targets-{key[:32]}-{_shape()}.pickle"
    try:
        with cached.open("rb") as fh:
            model, bases = pickle.load(fh)
        if isinstance(model, TargetsModel):
            units.remember_bases(bases)
            return model, key, files
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    from tracker.targets.file import parse_targets  # parsing and validating: only on a change

    model = parse_targets(data.decode("utf-8"), str(path))
    _store(cached, model)
    return model, key, files


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
