"""One file through the whole pipeline, stage by stage.

    ingest → grey → identify + align → dropout → read fields → normalise → validate → route

`Engine` holds what is loaded once per process (templates with their features, the OCR model).
`process_page` is pure apart from writing review crops when a `CropSink` is given;
`process_file` adds ingest and turns input errors into a quarantined result. Storage is the
caller's job (CLI or worker), so the same functions serve embedded mode and Celery tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline import ingest
from pipeline.errors import InputFileError
from pipeline.fields import dates, evidence
from pipeline.fields.calibration import calibrated, is_empty_reading
from pipeline.fields.read import PageReader, RawField, read_page
from pipeline.forms import dateparts
from pipeline.forms.align import TemplateFeatures, prepare_template, refine
from pipeline.forms.blank import read_blank
from pipeline.forms.identify import MIN_INLIERS, Identification, identify
from pipeline.forms.template import Template, load_all_templates
from pipeline.imaging.prepare import gray_and_red, print_only, relative_ink_ratio, to_gray_for_identify
from pipeline.normalize import normalize_field
from pipeline.ocr.recognizer import Recognizer
from pipeline.result import DocumentResult, FieldResult, Issue, PageResult, Route
from pipeline.route import (
    BILEVEL,
    DEFAULT_THRESHOLDS,
    clears,
    route_document,
    route_page,
    threshold_for,
)
from pipeline.settings import Settings
from pipeline.validate import date_rule_check, fix_addresses, postal_address_pairs, validate_cross

log = logging.getLogger("shinsei.run")

BLANK_PAGE_INK = 0.002
POOR_CONTRAST = 60  # paper minus the darkest 1% of a page: under this, the print itself is faint
POOR_SCAN_SHARE = 0.1  # share of a page's fields unreadable before the page is called a poor scan


@dataclass
class Engine:
    settings: Settings
    templates: list[TemplateFeatures]
    recognizer: Recognizer

    @classmethod
    def load(cls, settings: Settings, recognizer: Recognizer | None = None) -> Engine:
        from pipeline.ocr.onnx_ppocr import OnnxRecognizer

        rec = recognizer or OnnxRecognizer(threads=settings.ocr_threads)
        tpls = [complete_template(t, rec) for t in load_all_templates(Path(settings.templates_dir))]
        feats = [prepare_template(t, settings.work_dpi) for t in tpls]
        return cls(settings, feats, rec)


def complete_template(tpl: Template, recognizer: Recognizer) -> Template:
    """`tpl` with what its blank shows and the template leaves out: a date's parts where 年, 月
    and 日 are printed (pipeline/forms/dateparts.py), read with `recognizer`."""
    if not any(dateparts.wants_parts(f) for f in tpl.fields):
        return tpl
    blank = read_blank(tpl)

    def read(crops: list[np.ndarray]) -> list[str]:
        return [r.text for r in recognizer.read(crops)]

    return dateparts.with_found_parts(tpl, blank, read)


CropSink = Callable[[int, str, np.ndarray], str]  # (page, field name, crop) -> stored path


def _raw_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, list):
        return "・".join(raw)
    return str(raw)


def finish_fields(
    tpl: Template,
    raws: list[RawField],
    settings: Settings,
    today: date | None = None,
    bilevel: bool = False,
) -> tuple[list[FieldResult], list[Issue]]:
    """Normalise and validate raw readings; decide per field whether it is accepted (`bilevel`:
    the page held black and white only, whose readings are calibrated on such pages)."""
    today = today or settings.reference_date or date.today()
    normalized = {rf.spec.name: normalize_field(rf.spec, rf.raw) for rf in raws}
    values = {name: n.value for name, n in normalized.items()}
    values, fixes = fix_addresses(list(tpl.rules), values)
    labels = {f.name: f.label for f in tpl.fields}
    cross = fixes + validate_cross(list(tpl.rules), values, settings, today=today, labels=labels)
    by_field: dict[str, list[Issue]] = {}
    for issue in cross:
        for name in issue.fields:
            by_field.setdefault(name, []).append(issue)
    issues_of = {}
    for rf in raws:
        out_of_range = dates.range_issue(
            rf.spec.name, rf.spec.label, rf.spec.date_range, values[rf.spec.name], today
        )
        issues = (
            tuple(rf.issues)
            + tuple(normalized[rf.spec.name].issues)
            + ((out_of_range,) if out_of_range else ())
        )
        issues_of[rf.spec.name] = issues + tuple(by_field.get(rf.spec.name, []))
    # What the rest of the page says about each reading (postal code and town, furigana and
    # name, the page's dates): look-ups over what was read, no new image work.
    group_of = evidence.groups(
        tpl,
        {
            rf.spec.name: (
                _raw_text(rf.raw),
                values[rf.spec.name],
                {i.code for i in issues_of[rf.spec.name]},
                rf.digit_agreement,
            )
            for rf in raws
        },
    )
    results = []
    for rf in raws:
        issues = issues_of[rf.spec.name]
        group = group_of[rf.spec.name]
        # The probability that the reading is right, per evidence group: what is stored, shown
        # and routed on.
        confidence = calibrated(
            rf.spec.kind, float(rf.confidence), is_empty_reading(rf.spec.kind, rf.raw), group, bilevel
        )
        threshold = threshold_for(rf.spec, settings, group, bilevel)
        results.append(
            FieldResult(
                name=rf.spec.name,
                kind=rf.spec.kind,
                raw=_raw_text(rf.raw),
                value=values[rf.spec.name],
                confidence=confidence,
                chars=rf.chars,
                issues=issues,
                accepted=clears(rf.spec, confidence, issues, threshold),
                threshold=threshold,
                box_px=rf.box_px,
                double_entry=rf.spec.review == "double",
                raw_confidence=float(rf.confidence),
                evidence=group,
                digit_agreement=rf.digit_agreement,
            )
        )
    return results, cross


def process_page(
    image: np.ndarray,
    index: int,
    engine: Engine,
    crops: CropSink | None = None,
    bilevel: bool | None = None,
) -> PageResult:
    """Identify, align, read and route one page. `bilevel`: the scan held black and white only
    (ingest says so before it resamples a fax's pixels; None: told from `image`)."""
    bilevel = ingest.two_levels(image) if bilevel is None else bilevel
    gray, red = gray_and_red(image)
    small = cv2.resize(gray, (400, round(400 * gray.shape[0] / gray.shape[1])), interpolation=cv2.INTER_AREA)
    # Ink relative to the page's own paper, so a low-contrast scan is not taken for a blank; and
    # a page is called blank only when no form is found on it either.
    looks_blank = relative_ink_ratio(small) < BLANK_PAGE_INK
    ident_gray = to_gray_for_identify(image, red)
    ident = identify(ident_gray, engine.templates)
    if not ident.matched and not looks_blank:
        # A patterned or tinted background can hide the form from the matcher: look again at
        # the dark print alone. Pages found the first time are not looked at again.
        again = identify(print_only(ident_gray), engine.templates)
        ident = again if again.matched else ident
    if not ident.matched and looks_blank:
        issue = Issue("blank_page", "白紙のページです。裏面や差し込みの紙でないか確認してください。")
        return PageResult(index, None, None, Route.unknown_form, issues=(issue,))
    if not ident.matched:
        return PageResult(index, None, None, Route.unknown_form, issues=(_unmatched_issue(small, ident),))
    al, feats = ident.best, ident.features
    if al is None or feats is None:  # identify() promises both when matched
        raise RuntimeError("identify() matched a form but returned no alignment")
    tpl = feats.template
    al, aligned = refine(gray, al, feats)
    vocab = {k: tuple(v) for k, v in tpl.vocabularies.items()}
    today = engine.settings.reference_date or date.today()
    reader = PageReader(aligned, feats.blank_work, feats.print_mask, feats.work_dpi, vocab, today)
    raws = read_page(
        reader,
        list(tpl.fields),
        engine.recognizer,
        postal_address_pairs(tpl.rules),
        date_rule_check(list(tpl.rules), engine.settings, today),
    )
    fields, cross = finish_fields(tpl, raws, engine.settings, today, bilevel)
    if crops is not None:
        fields = [
            f if rf.crop is None else _with_crop(f, crops(index, f.name, rf.crop))
            for f, rf in zip(fields, raws, strict=True)
        ]
    page_issues = tuple(cross)
    unreadable = sum(any(i.code == "unreadable_region" for i in f.issues) for f in fields)
    if fields and unreadable / len(fields) >= POOR_SCAN_SHARE:
        # Say the scan is poor, not the form unknown: the clerk rescans rather than looks for
        # another document.
        page_issues += (
            Issue(
                "poor_scan",
                f"スキャンの画質が悪く、{unreadable}項目が読めません（黒くつぶれ・汚れ）。"
                "原本を確認するか、再スキャンしてください。",
            ),
        )
    if bilevel and BILEVEL in DEFAULT_THRESHOLDS:
        # Said on the page too: each held field quotes its own cut, but the clerk should know why
        # a whole page's fields need surer readings than the same form's on a grey scan.
        page_issues += (
            Issue(
                "bilevel_scan",
                "白黒2値（FAXなど）のスキャンです。文字の輪郭が失われているため、自動確定の基準を"
                f"確信度{DEFAULT_THRESHOLDS[BILEVEL]:.2f}以上に上げています。",
                severity="warning",
            ),
        )
    if ident.how == "registration_marks":
        page_issues += (
            Issue(
                "aligned_on_marks",
                "印刷の特徴点では様式を判定しきれず、四隅の位置合わせマークで位置を合わせました。",
                severity="warning",
            ),
        )
    if ident.how == "ruled_lines":
        # Blocking: the rules name the form less surely than its print (another version of the
        # same form draws the same table), so a person confirms the page; sure fields stay so.
        page_issues += (
            Issue(
                "aligned_on_rules",
                f"印刷の文字が薄く様式を判定しきれず、罫線の配置で「{tpl.title}」と判定し位置を合わせました。"
                "様式が正しいか確認してください。",
            ),
        )
    turn = (al.rotation_deg + 180) % 360 - 180
    orientation = int(round(turn / 90.0)) * 90 % 360
    skew = turn - (int(round(turn / 90.0)) * 90)
    return PageResult(
        index=index,
        form_id=tpl.form_id,
        form_version=tpl.version,
        route=route_page(fields, page_issues),
        orientation=orientation,
        skew_deg=float(skew),
        match_score=float(al.score),
        fields=tuple(fields),
        issues=page_issues,
        bilevel=bilevel,
    )


def _unmatched_issue(small: np.ndarray, ident: Identification) -> Issue:
    """Why no form was found: a scan too poor to match (faint, washed out, or nearly matching a
    form) is told apart from a page of another document, because the clerk rescans the one and
    files the other elsewhere."""
    contrast = float(np.median(small)) - float(np.percentile(small, 1))
    near = max((n for _, n in ident.candidates), default=0) >= MIN_INLIERS // 2
    if contrast < POOR_CONTRAST or near:
        why = "薄すぎる・かすれている" if contrast < POOR_CONTRAST else "様式に近いが一致しきらない"
        return Issue(
            "poor_scan",
            f"スキャンの画質が悪く（{why}）、様式を判定できません。原本を再スキャンしてください。",
        )
    return Issue(
        "unknown_form",
        "登録されている様式のどれとも一致しません。別の書類か、読み取れないほど傾いた・汚れたスキャンです。",
    )


def _with_crop(f: FieldResult, path: str) -> FieldResult:
    from dataclasses import replace

    return replace(f, crop_path=path)


@dataclass(frozen=True)
class FileOutcome:
    result: DocumentResult
    file: ingest.IngestedFile | None
    seconds: float = 0.0


def process_file(
    path: Path, engine: Engine, crops_for: Callable[[str], CropSink] | None = None
) -> FileOutcome:
    """Ingest and process every page of one file. Input errors become a quarantined result."""
    limits = ingest.Limits.from_settings(engine.settings)
    try:
        f = ingest.open_file(path, limits)
    except InputFileError as exc:
        sha = ingest.sha256_file(path) if path.exists() else ""
        return FileOutcome(
            DocumentResult(sha, path.name, Route.quarantined, reason=exc.reason, message=exc.message), None
        )
    sink = crops_for(f.sha256) if crops_for else None
    pages: list[PageResult] = []
    try:
        for page in ingest.iter_pages(f, limits):
            pages.append(process_page(page.image, page.index, engine, sink, page.bilevel))
    except InputFileError as exc:
        return FileOutcome(
            DocumentResult(f.sha256, path.name, Route.quarantined, reason=exc.reason, message=exc.message), f
        )
    route = route_document([p.route for p in pages])
    reason = message = None
    if route == Route.unknown_form and pages and pages[0].issues:
        # Say why on the document too, so queue views and `shinsei status` show it.
        reason, message = pages[0].issues[0].code, pages[0].issues[0].message
    return FileOutcome(
        DocumentResult(f.sha256, path.name, route, pages=tuple(pages), reason=reason, message=message), f
    )
