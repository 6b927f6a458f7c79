"""CTC decoding of one crop's (T, C) probability matrix into a `Reading`.

The recogniser hands on, per crop, a softmax matrix: T timesteps × C classes, class 0 the CTC
blank. This module turns it into text plus a probability per character, under a `Constraint`:

* `charset`: only the field's characters may be read (`pipeline.ocr.charsets`); look-alikes are
  merged first, then `greedy` takes the best allowed class per timestep.
* `pattern`: the text must have a known shape (postal `D{3}-D{4}`, a wareki date...). `pattern`
  runs an exact CTC Viterbi through a small automaton of that shape, so a date with a smudged
  年 is still read as a date rather than as digits glued together.

Every character probability is renormalised over the allowed classes, so it says how sure the
model is among the answers the field permits; `Reading.confidence` (their minimum) is what the
routing stage compares with its threshold. All functions are pure and need no model.

Japanese text (charsets `name` and `free`) gets a script prior (`script_prior`): a Latin letter,
digit, bracket or symbol read between kana and kanji (のUOび, さく51, にじ（）) is far likelier a
misread kana or kanji than what was written, so there it must beat the best Japanese reading of
the same stretch by a factor of 1/`SCRIPT_PRIOR`; when it does not, the Japanese character is read.

Pattern language (deliberately small):
    D        one ASCII digit           D{n}   exactly n digits     D{m,n}  m..n digits
    x        any other character is a literal (`-`, `年`, `/`)
    (A|B)    group of alternatives, each itself a pattern: `(令和|平成)`, `(元|D{1,2})`
    P|Q      alternatives at the top level
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.ocr.charsets import DIGITS, check_charset, class_mask, compact, label_index
from pipeline.result import Char, Reading

# Ready-made shapes for the common field kinds.
PATTERNS: dict[str, str] = {
    "postal": "D{3}-D{4}|D{7}",
    "phone": "D{2,5}-D{1,4}-D{4}|D{10,11}",
    "number": "D{1,3}",
    "wareki": "(令和|平成|昭和)(元|D{1,2})年D{1,2}月D{1,2}日",
}


def digits_pattern(n: int) -> str:
    """Pattern for a field of exactly `n` digit boxes."""
    return f"D{{{n}}}"


@dataclass(frozen=True)
class Constraint:
    """What a field may contain: a charset name, and optionally a pattern (see module docstring)."""

    charset: str = "free"
    pattern: str | None = None

    def __post_init__(self) -> None:
        # Fail when the template is loaded, not on the first scan that uses it.
        check_charset(self.charset)
        if self.pattern is not None:
            _compile(self.pattern)


FREE = Constraint()

_EPS = 1e-30  # floor before log: float32 softmax underflows to 0 for very unlikely classes


# --------------------------------------------------------------------------- greedy


def greedy(probs: np.ndarray, mask: np.ndarray, labels: Sequence[str]) -> Reading:
    """Masked best-class-per-timestep CTC decoding: collapse repeats, drop blanks.

    A character's probability is the renormalised (within `mask`) probability of its class,
    the maximum over the run of timesteps that emitted it.
    """
    if probs.shape[0] == 0:
        return Reading("")
    allowed = np.flatnonzero(mask)
    sub = probs[:, allowed]
    denom = np.maximum(sub.sum(axis=1), _EPS)
    arg = sub.argmax(axis=1)
    cls = allowed[arg]
    p = sub[np.arange(sub.shape[0]), arg] / denom
    # Run boundaries: a new run starts wherever the class changes.
    starts = np.flatnonzero(np.r_[True, cls[1:] != cls[:-1]])
    run_max = np.maximum.reduceat(p, starts)
    chars = tuple(
        Char(labels[c], _clip(pr)) for c, pr in zip(cls[starts].tolist(), run_max.tolist(), strict=True) if c
    )
    return Reading("".join(c.text for c in chars), chars)


def _clip(p: float) -> float:
    # Renormalised float32 sums can land a hair above 1; an emitted class is never exactly 0.
    return min(1.0, max(p, 1e-12))


# --------------------------------------------------------------------------- pattern parsing

# AST: a pattern is a tuple of alternatives; an alternative is a tuple of items; an item is
# ("D", m, n), ("L", char) or ("G", pattern).


def _parse(pattern: str) -> tuple:
    pos = 0

    def alternation() -> tuple:
        nonlocal pos
        alts = [sequence()]
        while pos < len(pattern) and pattern[pos] == "|":
            pos += 1
            alts.append(sequence())
        return tuple(alts)

    def sequence() -> tuple:
        nonlocal pos
        items = []
        while pos < len(pattern) and pattern[pos] not in "|)":
            ch = pattern[pos]
            if ch == "(":
                pos += 1
                inner = alternation()
                if pos >= len(pattern) or pattern[pos] != ")":
                    raise ValueError(f"pattern {pattern!r}: missing ')'")
                pos += 1
                items.append(("G", inner))
            elif ch == "D":
                pos += 1
                m = n = 1
                rep = re.compile(r"\{(\d+)(?:,(\d+))?\}").match(pattern, pos)
                if rep:
                    m = int(rep.group(1))
                    n = int(rep.group(2)) if rep.group(2) is not None else m
                    pos = rep.end()
                if m > n or n == 0:
                    raise ValueError(f"pattern {pattern!r}: bad repeat D{{{m},{n}}}")
                items.append(("D", m, n))
            elif ch in "{}":
                raise ValueError(f"pattern {pattern!r}: repeat braces only after D (at {pos})")
            else:
                pos += 1
                items.append(("L", ch))
        if not items:
            raise ValueError(f"pattern {pattern!r}: empty alternative")
        return tuple(items)

    ast = alternation()
    if pos != len(pattern):
        raise ValueError(f"pattern {pattern!r}: unexpected {pattern[pos]!r} at {pos}")
    return ast


@dataclass(frozen=True)
class _Automaton:
    """Character-level NFA. Node i emits one character out of `node_chars[i]`.

    `preds[i]` lists the nodes that may come just before node i (-1 = start of text);
    `finals` the nodes that may end the text; `start_final` whether empty text is accepted.
    """

    node_chars: tuple[tuple[str, ...], ...]
    preds: tuple[tuple[int, ...], ...]
    finals: tuple[int, ...]
    start_final: bool


@lru_cache(maxsize=256)
def _compile(pattern: str) -> _Automaton:
    ast = _parse(pattern)
    node_chars: list[tuple[str, ...]] = []
    preds: list[set[int]] = []

    def new_node(chars: tuple[str, ...], frontier: set[int]) -> int:
        node_chars.append(chars)
        preds.append(set(frontier))
        return len(node_chars) - 1

    def build_alts(alts: tuple, frontier: set[int]) -> set[int]:
        out: set[int] = set()
        for alt in alts:
            out |= build_seq(alt, frontier)
        return out

    def build_seq(items: tuple, frontier: set[int]) -> set[int]:
        for item in items:
            if item[0] == "L":
                frontier = {new_node((item[1],), frontier)}
            elif item[0] == "D":
                _, m, n = item
                exits = set(frontier) if m == 0 else set()
                prev = frontier
                for k in range(1, n + 1):
                    node = new_node(tuple(DIGITS), prev)
                    prev = {node}
                    if k >= m:
                        exits.add(node)
                frontier = exits
            else:
                frontier = build_alts(item[1], frontier)
        return frontier

    finals = build_alts(ast, {-1})
    return _Automaton(
        node_chars=tuple(node_chars),
        preds=tuple(tuple(sorted(p)) for p in preds),
        finals=tuple(sorted(f for f in finals if f >= 0)),
        start_final=-1 in finals,
    )


@dataclass(frozen=True)
class _Plan:
    """An automaton bound to a label set: arrays the Viterbi loop indexes with."""

    classes: np.ndarray  # (U,) class indices the automaton uses, in column order
    node_ok: np.ndarray  # (N, U) bool: node may emit column u
    pred: np.ndarray  # (N, P) predecessor rows; N = start, N+1 = sentinel (never reachable)
    finals: np.ndarray
    start_final: bool


def _plan(auto: _Automaton, labels: Sequence[str], mask: np.ndarray) -> _Plan:
    index = label_index(labels)
    used = sorted({index[c] for chars in auto.node_chars for c in chars if c in index and mask[index[c]]})
    col = {c: u for u, c in enumerate(used)}
    n_nodes = len(auto.node_chars)
    node_ok = np.zeros((n_nodes, len(used)), dtype=bool)
    for i, chars in enumerate(auto.node_chars):
        for c in chars:
            k = index.get(c)
            if k is not None and k in col:
                node_ok[i, col[k]] = True
    width = max(len(p) for p in auto.preds)
    pred = np.full((n_nodes, width), n_nodes + 1, dtype=np.intp)
    for i, ps in enumerate(auto.preds):
        pred[i, : len(ps)] = [n_nodes if p == -1 else p for p in ps]
    return _Plan(
        np.array(used, dtype=np.intp), node_ok, pred, np.array(auto.finals, dtype=np.intp), auto.start_final
    )


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    def alts(node: tuple) -> str:
        return "|".join("".join(item(i) for i in alt) for alt in node)

    def item(i: tuple) -> str:
        if i[0] == "D":
            return f"[0-9]{{{i[1]},{i[2]}}}"
        if i[0] == "L":
            return re.escape(i[1])
        return f"(?:{alts(i[1])})"

    return re.compile(alts(_parse(pattern)))


def matches(pattern: str, text: str) -> bool:
    """Whether `text` has the shape `pattern` describes (the pattern language above)."""
    return _regex(pattern).fullmatch(text) is not None


# --------------------------------------------------------------------------- pattern Viterbi


def pattern(probs: np.ndarray, mask: np.ndarray, labels: Sequence[str], pattern: str) -> Reading:
    """Best CTC path whose text matches `pattern` (exact Viterbi over the pattern's automaton).

    Falls back to `greedy` when no matching path fits in the available timesteps. A crop that
    reads as empty under the mask stays empty: forcing a shape onto a blank box would invent
    a value (the fields stage decides whether blank is allowed).

    Longer than most functions on purpose: the forward pass, its back-pointers and the
    back-trace are one dynamic programme over the same arrays, and read best top to bottom.
    """
    auto = _compile(pattern)
    plain = greedy(probs, mask, labels)
    if not plain.text:
        return plain
    plan = _plan(auto, labels, mask)
    T = probs.shape[0]
    n_nodes, n_cols = plan.node_ok.shape
    if T == 0 or n_cols == 0:
        return plain

    allowed = np.flatnonzero(mask)
    denom = np.maximum(probs[:, allowed].sum(axis=1), _EPS)
    # Log-probabilities of just the columns the automaton uses. The per-timestep renormalisation
    # constant is the same for every path, so the raw values give the same best path.
    col_p = probs[:, plan.classes].astype(np.float64)
    col_lp = np.log(np.maximum(col_p, _EPS))
    blank_lp = np.log(np.maximum(probs[:, 0].astype(np.float64), _EPS))
    rows = n_nodes + 2  # nodes, then the start row, then a sentinel row that is never reachable
    start, sentinel = n_nodes, n_nodes + 1
    ninf = -np.inf
    # State scores at time t: S[t, i, u] for u < U = "emitting column u as node i";
    # S[t, i, U] = "in a blank after node i" (the start row: before any character).
    # Per-step log-emissions in the same layout; -inf where a node cannot emit a column.
    step_lp = np.full((T, rows, n_cols + 1), ninf)
    step_lp[:, :n_nodes, :n_cols] = np.where(plan.node_ok[None], col_lp[:, None, :], ninf)
    step_lp[:, : n_nodes + 1, n_cols] = blank_lp[:, None]
    pred = np.vstack([plan.pred, np.full((2, plan.pred.shape[1]), sentinel, dtype=np.intp)])

    S = np.full((T, rows, n_cols + 1), ninf)
    first = (plan.pred == start).any(axis=1)
    S[0, :n_nodes][first, :n_cols] = step_lp[0, :n_nodes][first, :n_cols]
    S[0, start, n_cols] = blank_lp[0]

    two_cols = n_cols >= 2
    for t in range(1, T):
        prev = S[t - 1]
        L = prev[:, :n_cols]
        srt = np.sort(L, axis=1)
        b1 = srt[:, -1:]
        b2 = srt[:, -2:-1] if two_cols else np.full_like(b1, ninf)
        # Best score for having just finished a row so that the next character is column u:
        # from its blank state (any u), or straight from emitting a *different* column (CTC
        # needs a blank between two equal characters). Ties at the top give b2 == b1: correct.
        leave = np.where(L == b1, b2, b1)
        np.maximum(leave, prev[:, n_cols:], out=leave)
        cur = S[t]
        np.maximum(L, leave[pred].max(axis=1), out=cur[:, :n_cols])
        np.maximum(prev[:, n_cols], b1[:, 0], out=cur[:, n_cols])
        cur += step_lp[t]

    # Best accepting end state.
    last_L, last_B = S[T - 1, :, :n_cols], S[T - 1, :, n_cols]
    cands: list[tuple[float, str, int, int]] = []
    for i in plan.finals.tolist():
        u = int(last_L[i].argmax())
        cands.append((float(last_L[i, u]), "L", i, u))
        cands.append((float(last_B[i]), "B", i, -1))
    if plan.start_final:
        cands.append((float(last_B[start]), "B", start, -1))
    best = max(cands, key=lambda c: c[0]) if cands else None
    if best is None or not np.isfinite(best[0]):
        return plain

    # Backtrack by re-deriving each step's choice from the stored scores (keeps the forward
    # loop lean). Staying in a state is recognised by exact float equality, since the forward
    # pass computed the score as that very sum; only state changes search the predecessors.
    _, kind, i, u = best
    runs: list[tuple[int, int, int, int]] = []  # (node, column, first frame, last frame)
    run_end = T - 1
    for t in range(T - 1, 0, -1):
        prev = S[t - 1]
        if kind == "B":
            if i == start or prev[i, n_cols] + step_lp[t, i, n_cols] == S[t, i, n_cols]:
                continue
            kind, u = "L", int(prev[i, :n_cols].argmax())
            run_end = t - 1
            continue
        if prev[i, u] + step_lp[t, i, u] == S[t, i, u]:
            continue
        # Entered (i, u) at t: from a predecessor's blank, or from a predecessor emitting a
        # different column.
        runs.append((i, u, t, run_end))
        best_score, best_state = ninf, ("B", start, -1)
        for p in pred[i].tolist():
            if p == sentinel:
                continue
            if prev[p, n_cols] > best_score:
                best_score, best_state = prev[p, n_cols], ("B", p, -1)
            row = prev[p, :n_cols].copy()
            row[u] = ninf
            up = int(row.argmax())
            if row[up] > best_score:
                best_score, best_state = row[up], ("L", p, up)
        kind, i, u = best_state
        run_end = t - 1
    if kind == "L":
        runs.append((i, u, 0, run_end))
    runs.reverse()

    chars = []
    for _node, u_col, t0, t1 in runs:
        pr = float((col_p[t0 : t1 + 1, u_col] / denom[t0 : t1 + 1]).max())
        chars.append(Char(labels[int(plan.classes[u_col])], _clip(pr)))
    return Reading("".join(c.text for c in chars), tuple(chars))


# --------------------------------------------------------------------------- script prior

# A name, facility or free-text field is Japanese: between kana and kanji, a Latin letter, digit,
# bracket or symbol is most often a hiragana the recogniser took for one (の → O, ひ → U, ら → 5).
# Such a character is weighed at SCRIPT_PRIOR times its probability against the Japanese classes
# of the same timesteps: it stays only when the writing says so twenty times more surely, and then
# with the lowered probability, so the field goes to review. A lone one (のびOび) is rarer still
# in Japanese text than a short run (三菱UFJ, JA), so it must be fifty times surer
# (SCRIPT_PRIOR_LONE: a handwritten の read O at twenty to one is still の). Brackets written in
# pairs around Japanese (年宏（山宮保育園）) are not weighed.
# Runs longer than SCRIPT_PRIOR_RUN (an English word, a model number) are left alone: a misread
# hiragana rarely makes four in a row.
SCRIPT_PRIOR = 0.05
SCRIPT_PRIOR_LONE = 0.02
SCRIPT_PRIOR_RUN = 3
SCRIPT_PRIOR_CHARSETS = frozenset({"name", "free"})
_FOREIGN_CATEGORIES = frozenset({"Nd", "Ps", "Pe", "So", "Sm"})


def is_japanese(ch: str) -> bool:
    """Kana, kanji, the iteration marks and the long-vowel mark."""
    o = ord(ch[0]) if ch else 0
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana (and ー)
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or o >= 0x20000  # 𠮷 and other supplementary-plane kanji
        or ch in "々〆"
    )


def is_foreign(ch: str) -> bool:
    """A character a Japanese name or text rarely has between kana and kanji: a letter of another
    script (Latin, full-width Latin, Greek...), a digit, a bracket or a symbol."""
    if not ch or ch.isspace() or is_japanese(ch):
        return False
    cat = unicodedata.category(ch[0])
    return cat[0] == "L" or cat in _FOREIGN_CATEGORIES


_foreign_cache: dict[int, tuple[Sequence[str], np.ndarray, np.ndarray]] = {}


def _script_columns(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(foreign, japanese) boolean arrays over the classes of `labels`, cached per labels object."""
    hit = _foreign_cache.get(id(labels))
    if hit is not None and hit[0] is labels:
        return hit[1], hit[2]
    foreign = np.fromiter((i > 0 and is_foreign(lab) for i, lab in enumerate(labels)), bool, len(labels))
    japanese = np.fromiter((i > 0 and is_japanese(lab) for i, lab in enumerate(labels)), bool, len(labels))
    _foreign_cache[id(labels)] = (labels, foreign, japanese)
    return foreign, japanese


def _emitted_runs(probs: np.ndarray, allowed: np.ndarray) -> list[tuple[int, int, int]]:
    """Greedy CTC runs over the `allowed` classes as (class, first timestep, last timestep),
    blanks left out (as `greedy` reads them)."""
    cls = allowed[probs[:, allowed].argmax(axis=1)]
    starts = np.flatnonzero(np.r_[True, cls[1:] != cls[:-1]])
    ends = np.r_[starts[1:] - 1, len(cls) - 1]
    return [(int(cls[a]), int(a), int(b)) for a, b in zip(starts, ends, strict=True) if cls[a] != 0]


def _in_japanese_context(text: str, i: int, j: int) -> bool:
    """Whether the foreign run text[i:j] sits against Japanese: a Japanese character on at least
    one side, and on the other a Japanese character or the end of the text."""
    left = text[i - 1] if i > 0 else None
    right = text[j] if j < len(text) else None
    sides = [c for c in (left, right) if c is not None]
    return bool(sides) and all(is_japanese(c) for c in sides)


_BRACKETS = {"(": ")", "（": "）", "「": "」", "『": "』", "[": "]", "［": "］", "【": "】"}
_OPENING = {v: k for k, v in _BRACKETS.items()}


def _paired(text: str, i: int, j: int) -> bool:
    """Whether text[i:j] is all brackets, each with its partner on the proper side and Japanese
    in between (年宏（山宮保育園）): written on purpose, not a misread kana."""
    for k in range(i, j):
        ch = text[k]
        if ch in _BRACKETS:
            end = text.find(_BRACKETS[ch], k + 2)
            if end < 0 or not any(map(is_japanese, text[k + 1 : end])):
                return False
        elif ch in _OPENING:
            start = text.rfind(_OPENING[ch], 0, k - 1)
            if start < 0 or not any(map(is_japanese, text[start + 1 : k])):
                return False
        else:
            return False
    return True


def script_prior(
    probs: np.ndarray, labels: Sequence[str], reading: Reading, mask: np.ndarray | None = None
) -> Reading:
    """`reading` (the greedy reading of `probs` under `mask`, default every class) with foreign
    characters in Japanese context weighed by `SCRIPT_PRIOR` (see above)."""
    # Most readings hold no foreign character: nothing to weigh, and the runs need not be found.
    if probs.shape[0] == 0 or not any(map(is_foreign, reading.text)):
        return reading
    mask = np.ones(probs.shape[1], dtype=bool) if mask is None else mask
    runs = _emitted_runs(probs, np.flatnonzero(mask))
    text = reading.text
    if len(runs) != len(text) or len(reading.chars) != len(text) or not any(map(is_japanese, text)):
        return reading
    foreign, _ = _script_columns(labels)
    foreign = foreign & mask
    chars = list(reading.chars)
    i = 0
    while i < len(text):
        if not is_foreign(text[i]):
            i += 1
            continue
        j = i
        while j < len(text) and is_foreign(text[j]):
            j += 1
        if j - i <= SCRIPT_PRIOR_RUN and _in_japanese_context(text, i, j) and not _paired(text, i, j):
            for k in range(i, j):
                chars[k] = _weigh(probs, labels, foreign, mask, runs[k])
        i = j
    # A letter left alone between Japanese once its run was weighed (のUOび -> のびOび) is weighed
    # again as a lone one.
    now = "".join(c.text for c in chars)
    for k, c in enumerate(chars):
        lone = is_foreign(c.text) and is_foreign(text[k]) and not _paired(now, k, k + 1)
        if lone and _in_japanese_context(now, k, k + 1):
            chars[k] = _weigh(probs, labels, foreign, mask, runs[k], SCRIPT_PRIOR_LONE)
    if chars == list(reading.chars):
        return reading
    return Reading("".join(c.text for c in chars), tuple(chars))


def _weigh(
    probs: np.ndarray,
    labels: Sequence[str],
    foreign: np.ndarray,
    mask: np.ndarray,
    run: tuple[int, int, int],
    prior: float = SCRIPT_PRIOR,
) -> Char:
    """The run's character once foreign classes count `prior` times: the allowed non-blank
    class with the highest share at any timestep of the run, and that share."""
    _, t0, t1 = run
    window = np.where(mask, probs[t0 : t1 + 1], 0.0).astype(np.float64)
    window[:, foreign] *= prior
    share = window / np.maximum(window.sum(axis=1, keepdims=True), _EPS)
    best = share[:, 1:].max(axis=0)
    c = int(best.argmax()) + 1
    return Char(labels[c], _clip(float(best[c - 1])))


# --------------------------------------------------------------------------- entry point


def decode(probs: np.ndarray, labels: Sequence[str], constraint: Constraint = FREE) -> Reading:
    """Merge look-alikes, mask to the charset, then decode greedily or through the pattern."""
    if constraint.charset == "free":
        mask = class_mask("free", labels)
        if constraint.pattern is None:
            return script_prior(probs, labels, greedy(probs, mask, labels), mask)
        return pattern(probs, mask, labels, constraint.pattern)
    # Work on just the allowed columns (merged): equivalent to merge_probs + mask on the full
    # matrix, without copying 18,710 columns per crop.
    small = compact(constraint.charset, labels)
    sub = small.take(probs)
    everything = np.ones(len(small.labels), dtype=bool)
    if constraint.pattern is None:
        reading = greedy(sub, everything, small.labels)
        if constraint.charset in SCRIPT_PRIOR_CHARSETS:
            reading = script_prior(sub, small.labels, reading)
        return reading
    return pattern(sub, everything, small.labels, constraint.pattern)
