"""Does a sentence say the opposite of the passage it cites? Negation scoped by a dependency parse.

Both sides are parsed (``parse.py``) and read as *atoms*: each content word (verb, predicative
adjective, noun, or an event such as ``met`` / ``missed``, ``rose`` / ``fell``, ``repaid`` / ``charged
off``) with a sign, +1 if asserted and -1 if denied. A negation reaches only what the parse says it
governs: ``not`` its verb (and that verb's predicative complement: ``is not sufficient``), ``no`` its
noun (``no employees``), a subject that is ``nothing`` / ``no X`` its verb (``no triggers were met``),
``lacks`` / ``without`` / ``free of`` their object, and a negated ``believe`` / ``expect`` / ``suggest``
the clause it governs (``does not expect a downgrade to affect funding`` denies the effect). An event
word's direction multiplies in (``did not miss`` is ``met``).

A sentence is dropped when

- one of its atoms meets atoms of the same word (or event) in a cited clause sharing a content
  word with it, all of the opposite sign (``conversion triggers were met`` against ``no conversion
  triggers were met``), or
- it denies something the passage never denies (``has never advertised on Google`` against a
  passage about its Google charges): a model may repeat a passage's negation, not invent one.

Clauses that assert nothing are not read: conditions (``if the triggers were met``, ``could be
required``), and what a passage leaves out (``does not say how much``). ``rather than X`` and
``, not X`` are the sentence denying X outright, so X is left out of its reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.memo.parse import parse
from assistant.memo.polarity_words import (
    _EVENT_RES,
    COMPARISON,
    CONDITION,
    CORRECTION,
    DOUBTING,
    FOCUS,
    IMPLICATIVE_NEGATIVE,
    LIGHT_VERBS,
    NEGATIVE_DETERMINERS,
    NEGATIVE_NOUNS,
    NEGATIVE_PRONOUNS,
    NEGATORS,
    PRIVATIVE_HEADS,
    PRIVATIVE_PREPOSITIONS,
    PRIVATIVE_VERBS,
    RATHER,
    SILENCE,
    STOP,
    SYNONYMS,
    TRANSPARENT,
)
from assistant.memo.words import CORE_WORDS

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

CLAUSE_DEPS = frozenset(["ROOT", "ccomp", "xcomp", "advcl", "relcl", "acl", "parataxis", "conj", "csubj"])
PREDICATIVE = frozenset(["acomp", "attr", "oprd"])
SUBJECTS = frozenset(["nsubj", "nsubjpass", "csubj", "expl"])
OBJECTS = frozenset(["dobj", "attr", "oprd"])
COMPARED_POS = frozenset(["VERB", "ADJ", "NOUN", "PROPN"])
CANONS = frozenset(f"#{canon}" for _, canon, _ in _EVENT_RES)
"""Event pairs are specific enough to compare without a shared word (``charged off`` / ``paid in full``)."""
CUE_LEMMAS = (
    PRIVATIVE_VERBS | PRIVATIVE_HEADS | IMPLICATIVE_NEGATIVE | NEGATIVE_PRONOUNS | DOUBTING | NEGATIVE_NOUNS
)


@dataclass(frozen=True)
class Atom:
    """A word or event a clause asserts (+1) or denies (-1), with the content words around it."""

    key: str
    sign: int
    negated: bool
    context: frozenset[str]
    clause: str
    corrected: bool = False
    """A negated clause the next clause corrects (``not limited to one state; it has ...``)."""
    comparison: bool = False
    """Said in a comparison, whose negation restates its converse (``did not keep pace with``)."""


def key_of(lemma: str) -> str:
    word = lemma.lower()
    return SYNONYMS.get(word[:5], word[:5])


def _events(doc: Doc) -> tuple[dict[int, tuple[str, int]], set[int]]:
    """Event heads (token index -> pair name, direction) and every token an event phrase covers."""
    heads: dict[int, tuple[str, int]] = {}
    covered: set[int] = set()
    for rx, canon, direction in _EVENT_RES:
        for match in rx.finditer(doc.text):
            span = [t for t in doc if match.start() <= t.idx < match.end()]
            if not span or any(t.i in covered for t in span):
                continue
            inside = {t.i for t in span}
            head = next((t for t in span if t.head.i not in inside or t.head.i == t.i), span[0])
            heads[head.i] = (canon, direction)
            covered |= inside
    return heads, covered


def _is_negative_nominal(token: Token) -> bool:
    return token.lower_ in NEGATIVE_PRONOUNS or any(
        c.dep_ == "det" and c.lower_ in NEGATIVE_DETERMINERS for c in token.children
    )


def own_cues(token: Token) -> int:
    """How many negations attach to ``token`` itself."""
    cues = 0
    for child in token.children:
        if child.dep_ == "neg" or (child.dep_ == "advmod" and child.lower_ in NEGATORS):
            cues += 1
        elif token.pos_ in ("VERB", "AUX", "ADJ") and child.dep_ in SUBJECTS:
            cues += _is_negative_nominal(child)  # "nothing suggests", "no triggers were met"
        elif token.pos_ in ("VERB", "AUX", "ADJ") and child.dep_ in OBJECTS:
            cues += child.lower_ in NEGATIVE_PRONOUNS  # "found nothing"; "has no staff" denies the staff
        elif (
            token.pos_ in ("NOUN", "PROPN")
            and token.dep_ not in SUBJECTS  # "no triggers were met" denies the meeting, not the triggers
            and child.dep_ == "det"
            and child.lower_ in NEGATIVE_DETERMINERS
        ):
            cues += 1
    return cues


def sign_of(token: Token, depth: int = 0) -> int:
    """+1 if ``token`` is asserted, -1 if a negation reaches it (through what governs it)."""
    sign = -1 if own_cues(token) % 2 else 1
    head = token.head
    if head.i == token.i or depth > 12:
        return sign
    if token.dep_ in PREDICATIVE or (token.dep_ == "conj" and not own_cues(token)):
        return sign * sign_of(head, depth + 1)
    if token.dep_ == "acl" and head.dep_ == "dobj" and head.head.lemma_.lower() in TRANSPARENT:
        return sign * sign_of(head.head, depth + 1)  # "does not see a downgrade hurting ...": the hurting
    if token.dep_ in ("ccomp", "xcomp", "dobj"):
        small_clause = token.dep_ == "dobj" and any(c.dep_ in ("acl", "relcl") for c in token.children)
        if (
            head.lemma_.lower() in TRANSPARENT and not small_clause
        ):  # "does not expect it to", "nothing suggests a charge-off"
            return sign * sign_of(head, depth + 1)
        if head.lemma_.lower() in IMPLICATIVE_NEGATIVE and token.dep_ != "dobj":
            return -sign * sign_of(head, depth + 1)
        if head.lemma_.lower() in DOUBTING and token.dep_ != "dobj":
            return -sign * sign_of(head, depth + 1)
    if token.dep_ in OBJECTS and head.lemma_.lower() in LIGHT_VERBS:
        return sign * sign_of(head, depth + 1)  # "does not include a term loan" denies the loan
    if token.dep_ == "dobj" and head.lemma_.lower() in PRIVATIVE_VERBS:
        return -sign * sign_of(head, depth + 1)
    if token.dep_ == "pobj":
        if head.lower_ in PRIVATIVE_PREPOSITIONS:
            return -sign * sign_of(head.head, depth + 1)
        if head.lower_ in ("of", "from") and head.head.lemma_.lower() in PRIVATIVE_HEADS:
            return -sign * sign_of(head.head, depth + 1)
    return sign


def _clause_head(token: Token) -> Token:
    while token.dep_ not in CLAUSE_DEPS and token.head.i != token.i:
        token = token.head
    return token


def _clause_text(head: Token, *, with_complements: bool = False) -> str:
    """The clause's own words (nested clauses left out; with ``with_complements``, its ``ccomp`` /
    ``xcomp`` complements kept: ``not required`` + ``to repay``)."""
    own = [t for t in head.subtree if _owner(t, with_complements).i == head.i]
    return " ".join(t.text for t in own)


def _owner(token: Token, with_complements: bool) -> Token:
    owner = _clause_head(token)
    while with_complements and owner.dep_ in ("ccomp", "xcomp") and owner.head.i != owner.i:
        owner = _clause_head(owner.head)
    return owner


def _unread(doc: Doc) -> set[int]:
    """Tokens in clauses that assert nothing: conditions, and what a passage leaves out (with the
    clause it says is left out)."""
    skipped: set[int] = set()
    for token in doc:
        if _clause_head(token).i != token.i:
            continue
        text = _clause_text(token)
        marks = {c.lower_ for c in token.children if c.dep_ in ("mark", "aux")}
        first = next(iter(token.subtree))
        condition = bool(marks & {"if", "unless"}) or (
            token.dep_ == "advcl" and first.lower_ in ("should", "were", "had")
        )
        if condition or CONDITION.search(text):
            skipped |= {t.i for t in token.subtree if _clause_head(t).i == token.i}
            if condition:
                skipped |= {t.i for t in token.subtree}
        if SILENCE.search(_clause_text(token, with_complements=True)):
            skipped |= {t.i for t in token.subtree if t.i == token.i or _clause_head(t).i == token.i}
            for child in token.children:
                if child.dep_ in ("ccomp", "xcomp"):
                    skipped |= {t.i for t in child.subtree}
    return skipped


def _context(tokens: list[Token]) -> frozenset[str]:
    return frozenset(
        key_of(t.lemma_)
        for t in tokens
        if t.pos_ in COMPARED_POS and len(t.text) > 2 and t.lower_ not in STOP | CORE_WORDS
    )


def atoms(text: str) -> list[Atom]:
    """What ``text`` asserts and denies, word by word."""
    doc = parse(RATHER.sub(" ", text))
    events, covered = _events(doc)
    unread = _unread(doc)
    found: list[Atom] = []
    for sentence in doc.sents:
        context = _context(list(sentence))
        for token in sentence:
            if token.i in unread:
                continue
            if token.i in events:
                canon, direction = events[token.i]
                key, sign, base = f"#{canon}", direction * sign_of(token), direction
            elif token.i in covered or not _compared(token):
                continue
            else:
                key, sign, base = key_of(token.lemma_), sign_of(token), 1
            head = _clause_head(token)
            clause = " ".join(_clause_text(head).split())
            compared = bool(COMPARISON.search(sentence.text))
            found.append(Atom(key, sign, sign != base, context - {key}, clause, _corrected(head), compared))
    return found


def _corrected(head: Token) -> bool:
    """Is the clause headed by ``head`` followed by a clause that corrects it (``; it``, ``, but``)?"""
    own = [t for t in head.subtree if _clause_head(t).i == head.i and not t.is_punct]
    if not own:
        return False
    last = own[-1]
    return bool(CORRECTION.match(head.doc.text[last.idx + len(last.text) :]))


def _compared(token: Token) -> bool:
    lemma = token.lemma_.lower()
    if token.pos_ not in COMPARED_POS or len(token.text) < 3 or token.lower_ in STOP | CORE_WORDS:
        return False
    if lemma in CUE_LEMMAS or lemma in LIGHT_VERBS:
        return False
    if token.pos_ == "ADJ" and token.dep_ not in PREDICATIVE:
        return False  # an attribute ("new sales") is read with its noun
    return lemma not in TRANSPARENT  # its negation is read in what it governs


def _said(atom: Atom) -> str:
    return f"'{atom.clause[:80]}'"


def polarity_reasons(sentence: str, cited: str) -> list[str]:
    """A sentence that negates what the cited passage asserts, asserts what it negates, or denies
    what it never denies."""
    if not cited or not re.search(r"[A-Za-z]", sentence):
        return []
    sources = atoms(cited)
    source_words = frozenset().union(*(a.context | {a.key} for a in sources)) if sources else frozenset()
    for claim in atoms(sentence):
        if claim.negated and FOCUS.search(claim.clause):
            continue  # "not the whole loan", "not only due to": the quantifier is denied, not the fact
        keyed = [s for s in sources if s.key == claim.key]
        same = [s for s in keyed if s.key in CANONS or s.context & claim.context] or keyed
        if same:
            if all(s.sign != claim.sign for s in same):
                said = "negates" if claim.sign < 0 else "asserts"
                return [f"{said} what the cited passage says the other way ({_said(same[0])})"]
            continue
        denial = claim.negated and claim.sign < 0 and not claim.corrected and not claim.comparison
        if denial and (claim.context | {claim.key}) & source_words:
            return [f"denies what the cited passage never denies ({_said(claim)})"]
    return []
