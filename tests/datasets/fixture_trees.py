"""Tiny dataset trees that mirror each release's structure, built from the corpus's real faces.

Each builder writes into a folder the released layout (folder names, frame file naming), the
annotation workbook (sheet name, column names, header offset, odd cells such as CASME II's "/"
apex and SAMM's notes block) and returns what an adapter should find. The `edit_*` helpers make the
corrupted variants the tests feed to the adapters.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import openpyxl

from mexkit.video_io import write_video


@dataclass
class Tree:
    root: Path
    sheet: Path | None
    header_row: int
    samples: dict[str, dict] = field(default_factory=dict)  # sample_id → expected manifest values


def _write(path: Path, img: np.ndarray, gray: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gray:
        out = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    else:
        out = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), out), path


def _frames(seq: np.ndarray, n: int, offset: int = 0) -> np.ndarray:
    """n consecutive real frames (wrapping) from a face sequence."""
    return np.stack([seq[(offset + i) % len(seq)] for i in range(n)])


def _workbook(path: Path, sheet_name: str, header: list[str | None], rows: list[list], header_row: int = 1, notes: list[str] = ()) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_name
    for i, text in enumerate(notes):
        ws.cell(row=1 + 2 * i, column=1, value=text)
    for j, h in enumerate(header):
        if h is not None:
            ws.cell(row=header_row, column=j + 1, value=h)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is not None:
                ws.cell(row=header_row + 1 + i, column=j + 1, value=v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


# --- corruption helpers ----------------------------------------------------------------------
def _col(ws, header_row: int, name: str) -> int:
    for c in range(1, ws.max_column + 1):
        if ws.cell(row=header_row, column=c).value == name:
            return c
    raise KeyError(name)


def edit_cell(tree: Tree, data_row: int, column: str, value) -> int:
    """Set a cell of the data_row-th sample row (0-based); returns its spreadsheet row number."""
    wb = openpyxl.load_workbook(tree.sheet)
    ws = wb.active
    r = tree.header_row + 1 + data_row
    ws.cell(row=r, column=_col(ws, tree.header_row, column), value=value)
    wb.save(tree.sheet)
    return r


def rename_column(tree: Tree, old: str, new: str) -> None:
    wb = openpyxl.load_workbook(tree.sheet)
    ws = wb.active
    ws.cell(row=tree.header_row, column=_col(ws, tree.header_row, old), value=new)
    wb.save(tree.sheet)


def duplicate_row(tree: Tree, data_row: int) -> int:
    """Append a copy of a sample row; returns the new row's spreadsheet number."""
    wb = openpyxl.load_workbook(tree.sheet)
    ws = wb.active
    src = tree.header_row + 1 + data_row
    dst = ws.max_row + 1
    for c in range(1, ws.max_column + 1):
        ws.cell(row=dst, column=c, value=ws.cell(row=src, column=c).value)
    wb.save(tree.sheet)
    return dst


def corrupt_file(path: Path) -> None:
    path.write_bytes(b"this is not an image" * 10)


# --- CASME II --------------------------------------------------------------------------------
def build_casme2(root: Path, seqs: list[np.ndarray]) -> Tree:
    """CASME2_RAW_selected/subXX/EPxx_xx/imgN.jpg + CASME2-coding-20140508.xlsx (Sheet1, spacer
    columns, a "/" apex)."""
    frames_root = root / "CASME2_RAW_selected"
    # subject, filename, first file number, n files, onset, apex, offset, AUs, emotion
    spec = [
        (1, "EP02_01f", 46, 8, 46, 50, 53, "12", "happiness"),
        (1, "EP03_02", 10, 8, 10, "/", 17, "4+7", "repression"),
        (2, "EP01_11f", 100, 8, 101, 104, 106, "1+2", "surprise"),
        (2, "EP19_06f", 30, 8, 30, 33, 37, "R4", "others"),
    ]
    header = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None, "Action Units", "Estimated Emotion"]
    rows, samples = [], {}
    for k, (sub, fn, first, n, on, ap, off, aus, emo) in enumerate(spec):
        for i, img in enumerate(_frames(seqs[(sub - 1) % len(seqs)], n, 3 * k)):
            _write(frames_root / f"sub{sub:02d}" / fn / f"img{first + i}.jpg", img)
        rows.append([sub, fn, None, on, ap, off, None, aus, emo])
        sel = [x for x in range(first, first + n) if on <= x <= off]
        samples[f"casme2_sub{sub:02d}_{fn}"] = {
            "subject": f"casme2_sub{sub:02d}", "label": emo, "num_frames": len(sel), "onset": 0,
            "apex": (len(sel) - 1) // 2 if ap == "/" else sel.index(ap), "apex_estimated": ap == "/",
        }
    sheet = root / "CASME2-coding-20140508.xlsx"
    _workbook(sheet, "Sheet1", header, rows)
    return Tree(root, sheet, 1, samples)


# --- SAMM ------------------------------------------------------------------------------------
SAMM_HEADER = ["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame", "Duration",
               "Micro", "Action Units", "Notes", "Estimated Emotion", "Objective Classes"]


def build_samm(root: Path, seqs: list[np.ndarray]) -> Tree:
    """SAMM/006/006_1_2/006_05562.jpg (gray) + SAMM_Micro_FACS_Codes_v2.xlsx with notes above the
    header on row 13; absolute frame numbers; an apex of -1."""
    spec = [  # subject cell, filename, first file number, n files, onset, apex, offset, AUs, emotion, class
        (6, "006_1_2", 5562, 12, 5564, 5568, 5571, "R12", "Happiness", 1),
        ("007", "007_3_1", 1220, 10, 1220, -1, 1227, "4+7", "Anger", 2),
        (6, "006_5_4", 980, 10, 982, 985, 988, "1+2", "Other", 7),
    ]
    rows, samples = [], {}
    for k, (sub, fn, first, n, on, ap, off, aus, emo, cls) in enumerate(spec):
        code = f"{int(sub):03d}"
        for i, img in enumerate(_frames(seqs[k % len(seqs)], n, 2 * k)):
            _write(root / "SAMM" / code / fn / f"{code}_{first + i:05d}.jpg", img, gray=True)
        rows.append([sub, fn, 1, on, ap, off, off - on + 1, "Micro - 1/2", aus, None, emo, cls])
        sel = [x for x in range(first, first + n) if on <= x <= off]
        samples[f"samm_{fn}"] = {"subject": f"samm_{code}", "label": emo, "num_frames": len(sel), "onset": 0,
                                 "apex": (len(sel) - 1) // 2 if ap == -1 else sel.index(ap), "apex_estimated": ap == -1}
    notes = ["SAMM Micro-Expression FACS Codes", "Created for the SAMM dataset release (v2).",
             "Frame numbers are absolute frame numbers of each subject's recording.", "Micro: duration <= 500 ms.",
             "Estimated Emotion follows the stimulus and FACS codes.", "Objective Classes 1-7."]
    sheet = root / "SAMM_Micro_FACS_Codes_v2.xlsx"
    _workbook(sheet, "FACS_Codes", SAMM_HEADER, rows, header_row=13, notes=notes)
    return Tree(root, sheet, 13, samples)


# --- SMIC-HS ---------------------------------------------------------------------------------
def build_smic(root: Path, seqs: list[np.ndarray]) -> Tree:
    """HS/sN/micro/{positive,negative,surprise}/sN_xx_NN/imageNNNNNN.bmp (labels from folders)."""
    spec = [("s1", "positive", "s1_po_01", 106720, 9), ("s1", "negative", "s1_ne_03", 20431, 7), ("s3", "surprise", "s3_sur_02", 5501, 11)]
    samples = {}
    for k, (sub, emo, name, first, n) in enumerate(spec):
        for i, img in enumerate(_frames(seqs[k % len(seqs)], n, k)):
            _write(root / "HS" / sub / "micro" / emo / name / f"image{first + i}.bmp", img)
        samples[f"smic_{name}"] = {"subject": f"smic_{sub}", "label": emo, "num_frames": n, "onset": 0, "apex": (n - 1) // 2, "apex_estimated": True}
    return Tree(root, None, 0, samples)


# --- CAS(ME)^3 Part A ------------------------------------------------------------------------
CASME3_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]


def build_casme3(root: Path, seqs: list[np.ndarray]) -> Tree:
    """part_A/data/part_A_split/part_A/spNO.X/<letter>/color/N.jpg (+ depth/N.png), one recording
    holding two samples, a dropped frame; part_A/annotation/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx."""
    base = root / "part_A" / "data" / "part_A_split" / "part_A"
    recordings = {("spNO.1", "a"): (1, 24, [14]), ("spNO.2", "c"): (1, 12, [])}  # first, last, dropped
    for k, ((sub, fn), (first, last, dropped)) in enumerate(recordings.items()):
        seq = _frames(seqs[k % len(seqs)], last - first + 1)
        for i, n in enumerate(range(first, last + 1)):
            if n in dropped:
                continue
            _write(base / sub / fn / "color" / f"{n}.jpg", seq[i])
            d = (cv2.cvtColor(seq[i], cv2.COLOR_RGB2GRAY).astype(np.uint16) * 16)
            (base / sub / fn / "depth").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(base / sub / fn / "depth" / f"{n}.png"), d)
    spec = [("spNO.1", "a", 3, 6, 10, "4+7", "negative", "disgust"),
            ("spNO.1", "a", 12, 16, 20, "12", "positive", "happy"),
            ("spNO.2", "c", 2, 5, 9, "1+2", "surprise", "surprise")]
    rows, samples = [], {}
    for sub, fn, on, ap, off, aus, obj, emo in spec:
        first, last, dropped = recordings[(sub, fn)]
        sel = [x for x in range(on, off + 1) if x not in dropped]
        rows.append([sub, fn, on, ap, off, aus, obj, emo])
        samples[f"casme3_{sub}_{fn}_{on}"] = {"subject": f"casme3_{sub}", "label": emo, "num_frames": len(sel), "onset": 0,
                                               "apex": sel.index(ap), "apex_estimated": False,
                                               "dropped_frames": ";".join(str(d) for d in dropped if on <= d <= off)}
    sheet = root / "part_A" / "annotation" / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
    _workbook(sheet, "Sheet1", CASME3_HEADER, rows)
    return Tree(root, sheet, 1, samples)


# --- MMEW ------------------------------------------------------------------------------------
MMEW_HEADER = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion", "remarks"]


def build_mmew(root: Path, seqs: list[np.ndarray]) -> Tree:
    """Micro_Expression/<emotion>/<Filename>/N.jpg (from 1) + MMEW_Micro_Exp.xlsx."""
    spec = [("S01", "S01-01-001", "happiness", 10, 2, 5, 9, "AU12"), ("S03", "S03-01-002", "happiness", 9, 1, 4, 8, "AU6+AU12"),
            ("S03", "S03-02-001", "surprise", 11, 3, 6, 10, "AU1+AU2"), ("S01", "S01-04-001", "disgust", 8, 1, 3, 7, "AU9")]
    rows, samples = [], {}
    for k, (sub, fn, emo, n, on, ap, off, aus) in enumerate(spec):
        for i, img in enumerate(_frames(seqs[k % len(seqs)], n, k)):
            _write(root / "Micro_Expression" / emo / fn / f"{i + 1}.jpg", img)
        rows.append([sub, fn, on, ap, off, aus, emo, None])
        samples[f"mmew_{fn}"] = {"subject": f"mmew_{sub}", "label": emo, "num_frames": off - on + 1, "onset": 0, "apex": ap - on, "apex_estimated": False}
    sheet = root / "MMEW_Micro_Exp.xlsx"
    _workbook(sheet, "Sheet1", MMEW_HEADER, rows)
    return Tree(root, sheet, 1, samples)


# --- 4DME ------------------------------------------------------------------------------------
FOURDME_HEADER = ["sub_ID", "fold_name", "Onset", "Apex", "Offset", "AUs", "Emotion", "Positive", "Negative", "Surprise", "Repression", "Others"]


def build_fourdme(root: Path, seqs: list[np.ndarray]) -> Tree:
    """gray_micro/<sub_ID>/<fold_name>/imgN.jpg (gray, recording frame numbers) +
    "4DME_Labelling_Micro_release v1.xlsx"."""
    spec = [("S01", "S01_1st_001_01_1", 2480, 10, 2481, 2484, 2488, "AU4+L7", "Negative", (0, 1, 0, 0, 0)),
            ("S02", "S02_2nd_003_02_1", 700, 9, 700, 703, 708, "AU1+AU2+AU12", "Surprise+Positive", (1, 0, 1, 0, 0))]
    rows, samples = [], {}
    for k, (sub, fn, first, n, on, ap, off, aus, emo, onehot) in enumerate(spec):
        for i, img in enumerate(_frames(seqs[k % len(seqs)], n, k)):
            _write(root / "gray_micro" / sub / fn / f"img{first + i}.jpg", img, gray=True)
        rows.append([sub, fn, on, ap, off, aus, emo, *onehot])
        sel = [x for x in range(first, first + n) if on <= x <= off]
        samples[f"fourdme_{fn}"] = {"subject": f"fourdme_{sub}", "label": emo, "num_frames": len(sel), "onset": 0, "apex": sel.index(ap), "apex_estimated": False}
    sheet = root / "4DME_Labelling_Micro_release v1.xlsx"
    _workbook(sheet, "Sheet1", FOURDME_HEADER, rows)
    return Tree(root, sheet, 1, samples)


# --- generic ---------------------------------------------------------------------------------
def build_generic(root: Path, seqs: list[np.ndarray]) -> Tree:
    """clips/<id>/00000.png frame folders and a clips/<id>.mp4 video + manifest.csv."""
    import pandas as pd

    clips = root / "clips"
    for i, img in enumerate(_frames(seqs[0], 10)):
        _write(clips / "user_a" / f"{i:05d}.png", img)
    for i, img in enumerate(_frames(seqs[1 % len(seqs)], 8, 2)):
        _write(clips / "user_b" / f"frame_{i + 1}.jpg", img)
    write_video(clips / "user_c.mp4", _frames(seqs[0], 12, 5), fps=25.0)
    df = pd.DataFrame([
        {"sample_id": "user_a", "subject": "alice", "label": "positive", "onset": 1, "apex": 5, "offset": 9, "fps": 30, "path": "clips/user_a"},
        {"sample_id": "user_b", "subject": "bob", "label": "surprise", "onset": None, "apex": None, "offset": None, "fps": 60, "path": "clips/user_b"},
        {"sample_id": "user_c", "subject": "alice", "label": "negative", "onset": 0, "apex": 6, "offset": 11, "fps": None, "path": "clips/user_c.mp4"},
    ])
    sheet = root / "manifest.csv"
    df.to_csv(sheet, index=False)
    samples = {
        "user_a": {"subject": "alice", "label": "positive", "num_frames": 10, "onset": 1, "apex": 5, "apex_estimated": False},
        "user_b": {"subject": "bob", "label": "surprise", "num_frames": 8, "onset": 0, "apex": 3, "apex_estimated": True},
        "user_c": {"subject": "alice", "label": "negative", "num_frames": 12, "onset": 0, "apex": 6, "apex_estimated": False},
    }
    return Tree(root, sheet, 1, samples)


def copy_tree(tree: Tree, dst: Path) -> Tree:
    shutil.copytree(tree.root, dst)
    sheet = dst / tree.sheet.relative_to(tree.root) if tree.sheet else None
    return Tree(dst, sheet, tree.header_row, dict(tree.samples))


# --- the MEGC2019 composite, laid out with the official sample list ---------------------------
def _small(seqs: list[np.ndarray], size: int = 32) -> list[np.ndarray]:
    return [np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in s]) for s in seqs]


_CASME2_NEGATIVE = ("disgust", "repression")
_SAMM_NEGATIVE = ("Anger", "Contempt", "Disgust", "Fear", "Sadness")
_NATIVE_POSITIVE = {"casme2": "happiness", "samm": "Happiness"}
_NATIVE_SURPRISE = {"casme2": "surprise", "samm": "Surprise"}


def _native(ds: str, megc: str, k: int) -> str:
    if megc == "negative":
        return (_CASME2_NEGATIVE if ds == "casme2" else _SAMM_NEGATIVE)[k % (2 if ds == "casme2" else 5)]
    return (_NATIVE_POSITIVE if megc == "positive" else _NATIVE_SURPRISE)[ds]


def build_megc2019(root: Path, seqs: list[np.ndarray], casme2_sheet: str = "CASME2-coding-20140508.xlsx") -> dict[str, Path]:
    """SMIC-HS, CASME II and SAMM trees holding exactly the official MEGC2019 samples (3 small frames each).

    The sample ids, subjects and classes come from the shipped list (datasets/megc2019_samples.csv);
    native labels are dataset words that map to the listed class. The CASME II sheet also has the two
    samples the official list leaves out (labelled disgust) and an "others" row; the SAMM sheet an
    "Other" row. Rows the published errata name (by position) are laid out so that the corrected
    values have frames: SAMM's v2 errata apply here; CASME II's apply when casme2_sheet is the
    updated sheet (row 60's released offset then has no file, as in the release MEB corrects).
    Returns dataset -> root.
    """
    from mexkit.datasets.errata import load_errata
    from mexkit.datasets.megc2019_list import megc2019_samples

    seqs = _small(seqs)
    listed = megc2019_samples()
    roots = {ds: root / ds for ds in ("smic", "casme2", "samm")}
    img = iter(range(10**9))

    def frames(k: int, n: int = 3) -> np.ndarray:
        return _frames(seqs[k % len(seqs)], n, next(img) % 7)

    for k, r in enumerate(listed[listed["dataset"] == "smic"].itertuples()):
        sub, folder = r.subject[len("smic_"):], r.sample_id[len("smic_"):]
        for i, im in enumerate(frames(k)):
            _write(roots["smic"] / "HS" / sub / "micro" / r.megc_label / folder / f"image{1000 + 10 * k + i}.bmp", im)

    def sheet_rows(ds: str, extra: list[tuple[str, str, str]]):
        part = listed[listed["dataset"] == ds]
        rows = [(r.subject[len(ds) + 1:], r.sample_id[len(ds) + 1:], _native(ds, r.megc_label, k)) for k, r in enumerate(part.itertuples())]
        return rows + extra

    # CASME II ----------------------------------------------------------------------------------
    errata = {(e.row, e.field): e for e in load_errata("casme2")}
    updated = "updated" in casme2_sheet
    c_rows = []
    extra = [("sub04", "EP12_01f", "disgust"), ("sub24", "EP02_07", "disgust"), ("sub01", "EP03_99", "others")]
    for k, (sub, name, native) in enumerate(sheet_rows("casme2", extra)):
        fn = name[len(sub) + 1:] if name.startswith(sub + "_") else name
        first, n, apex, offset = 10 + 5 * k, 3, None, None
        if (k, "apex") in errata:  # released "/" (unknown); the erratum's apex has a frame
            first, apex = int(errata[(k, "apex")].corrected) - 1, "/"
        if (k, "offset") in errata and updated:  # released offset has no file; the corrected one has
            n, offset = int(errata[(k, "offset")].corrected) - first + 1, int(errata[(k, "offset")].corrected) + 4
        for i, im in enumerate(frames(k, n)):
            _write(roots["casme2"] / "CASME2_RAW_selected" / sub / fn / f"img{first + i}.jpg", im)
        c_rows.append([int(sub[3:]), fn, None, first, first + 1 if apex is None else apex, first + n - 1 if offset is None else offset, None, "4", native])
    _workbook(roots["casme2"] / casme2_sheet, "Sheet1", ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None, "Action Units", "Estimated Emotion"], c_rows)

    # SAMM --------------------------------------------------------------------------------------
    errata = {(e.row, e.field): e for e in load_errata("samm")}
    s_rows = []
    for k, (code, name, native) in enumerate(sheet_rows("samm", [("006", "006_9_9", "Other")])):
        first, apex, offset, n = 1000 + 5 * k, None, None, 3
        if (k, "apex") in errata:
            first, apex = int(errata[(k, "apex")].corrected) - 1, -1
        if (k, "offset") in errata:
            first, offset = int(errata[(k, "offset")].corrected) - 2, int(errata[(k, "offset")].corrected) + 6
        for i, im in enumerate(frames(k, n)):
            _write(roots["samm"] / "SAMM" / code / name / f"{code}_{first + i:05d}.jpg", im, gray=True)
        s_rows.append([int(code), name, 1, first, first + 1 if apex is None else apex, first + 2 if offset is None else offset, 3, "Micro - 1/2", "4", None, native, 1])
    _workbook(roots["samm"] / "SAMM_Micro_FACS_Codes_v2.xlsx", "FACS_Codes", SAMM_HEADER, s_rows, header_row=13,
              notes=["SAMM Micro-Expression FACS Codes", "Frame numbers are absolute frame numbers."])
    return roots


def build_fourdme_errata(root: Path, seqs: list[np.ndarray]) -> Tree:
    """A 4DME tree with 146 rows (3 small frames each) so the sheet has data rows 144 and 145, which the
    release has with AUs and labels swapped: as released, row 144 reads AU4 / Negative and row 145
    AU12 / Positive. `samples` holds the corrected values."""
    seqs = _small(seqs)
    rows = []
    for k in range(146):
        sub, fn = f"S{k % 5 + 1:02d}", f"S{k % 5 + 1:02d}_1st_{k:03d}_01_1"
        for i, im in enumerate(_frames(seqs[k % len(seqs)], 3, k % 5)):
            _write(root / "gray_micro" / sub / fn / f"img{100 + i}.jpg", im, gray=True)
        aus, emo, onehot = ("AU12", "Positive", (1, 0, 0, 0, 0)) if k == 145 else ("AU4", "Negative", (0, 1, 0, 0, 0)) if k == 144 else ("AU1+AU2", "Surprise", (0, 0, 1, 0, 0))
        rows.append([sub, fn, 100, 101, 102, aus, emo, *onehot])
    sheet = root / "4DME_Labelling_Micro_release v1.xlsx"
    _workbook(sheet, "Sheet1", FOURDME_HEADER, rows)
    samples = {"fourdme_S05_1st_144_01_1": {"aus": "AU12", "label": "Positive", "positive": 1, "negative": 0},
               "fourdme_S01_1st_145_01_1": {"aus": "AU4", "label": "Negative", "positive": 0, "negative": 1}}
    return Tree(root, sheet, 1, samples)


# --- long videos (spotting): CAS(ME)², SAMM Long Videos, CAS(ME)³ Part A -----------------------
# `samples` of these trees: "<video>@<sheet onset>" → the expected truth.csv values (positions in the
# decoded video) and `notes_has`, the recorded rules the row's notes must name.
def _raw_workbook(path: Path, sheets: dict[str, list[list]]) -> None:
    """A workbook written cell by cell, no header handling (CAS(ME)²'s headerless sheets)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v is not None:
                    ws.cell(row=i + 1, column=j + 1, value=v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _xls_workbook(path: Path, sheet_name: str, rows: list[list]) -> None:
    """An old-format .xls workbook (BIFF8, as CAS(ME)³ and one SAMM-LV copy are released)."""
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet(sheet_name)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is not None:
                ws.write(i, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))


def _video(folder: Path, numbers: list[int], name, seq: np.ndarray, gray: bool = False) -> None:
    for i, n in enumerate(numbers):
        _write(folder / name(n), seq[i % len(seq)], gray=gray)


def build_casme2_long(root: Path, seqs: list[np.ndarray]) -> Tree:
    """rawpic/s15/15_0101disgustingteeth/imgN.jpg + CAS(ME)^2code_final.xlsx: headerless CASFEcode_final,
    naming rule1 / rule2 (a code saved as a number), an offset 0, an apex 0, `happyiness`, a row whose
    interval lies past the video's end (rejected) and a video without intervals."""
    seqs = _small(seqs, 48)
    img = lambda n: f"img{n}.jpg"  # noqa: E731
    videos = {"s15/15_0101disgustingteeth": 30, "s15/15_0401girlcrashing": 24, "s16/16_0101disgustingteeth": 20,
              "s16/16_0502westernfood": 12}
    for k, (v, n) in enumerate(videos.items()):
        _video(root / "rawpic" / v, list(range(1, n + 1)), img, _frames(seqs[k % len(seqs)], n, k))
    code = [  # subject no., clip, onset, apex, offset, AUs, emotion, type, self-report
        [1, "disgust1_1", 3, 6, 9, "4+9", "disgust", "micro-expression", "disgust"],
        [1, "disgust1_2", 12, 18, 0, "12", "happyiness", "macro-expression", "happy"],
        [1, "anger1_1", 4, 0, 14, "4", "anger", "macro-expression", "angry"],
        [2, "disgust1_1", 2, 5, 7, "9", "disgust", "micro-expression", "disgust"],
        [1, "anger1_2", 30, 31, 40, "4", "anger", "macro-expression", "angry"],
    ]
    naming1 = [["participant", "folder", "number"], ["15", "s15", 1], ["16", "s16", 2]]
    naming2 = [["0101", "disgust1"], [401, "anger1"], ["0502", "westernfood"]]
    sheet = root / "CAS(ME)^2code_final.xlsx"
    _raw_workbook(sheet, {"CASFEcode_final": code, "naming rule1": naming1, "naming rule2": naming2})
    samples = {
        "s15/15_0101disgustingteeth@3": {"subject": "casme2-long_s15", "onset": 2, "apex": 5, "offset": 8, "type": "ME", "emotion": "disgust", "notes_has": []},
        "s15/15_0101disgustingteeth@12": {"subject": "casme2-long_s15", "onset": 11, "apex": 17, "offset": 17, "type": "MaE", "emotion": "happiness",
                                           "notes_has": ["offset 0 in the sheet", "'happyiness' (a typo in the release)"]},
        "s15/15_0401girlcrashing@4": {"subject": "casme2-long_s15", "onset": 3, "apex": 8, "offset": 13, "type": "MaE", "emotion": "anger",
                                       "notes_has": ["apex 0 in the sheet", "apex not annotated: the middle frame (9) used"]},
        "s16/16_0101disgustingteeth@2": {"subject": "casme2-long_s16", "onset": 1, "apex": 4, "offset": 6, "type": "ME", "emotion": "disgust", "notes_has": []},
    }
    return Tree(root, sheet, 0, samples)


SAMM_LV_HEADER = ["Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration", "Type", "Action Units", "Notes"]


def samm_lv_rows() -> list[list]:
    """The FACS_Movement_Only sheet of the SAMM-LV fixture: 9 preamble rows, the header, the data rows."""
    preamble = [["SAMM Long Videos - FACS coding of all movements"], [None], ["Version 2 release"], [None],
                ["Onset/Apex/Offset are frame numbers of the long video"], ["Apex -1: not annotated"], [None],
                ["Type: Macro or Micro - 1/2"], [None]]
    data = [
        [6, "006_1_1", 1, 5, 10.5, 14, 10, "Micro - 1/2", "R12", None],
        [6, "006_1_2", 2, 0, -1, 38, 39, "Macro", "4+7", "very long"],
        ["007", "007_3_1", 1, 3, 7, 12, 10, "Micro - 1/2", "1+2", None],
        ["007", "007_3_2", 1, 14, 20, 27, 14, "Macro", "12", None],
    ]
    return preamble + [SAMM_LV_HEADER] + data


def build_samm_lv(root: Path, seqs: list[np.ndarray], xls: bool = False) -> Tree:
    """SAMM_longvideos/006_1/006_1_0001.jpg (gray; 4 digits, 007_3 with 5) + SAMM_LongVideos_V2_Release.xlsx
    (or a V1 .xls copy: xls=True), sheet FACS_Movement_Only with 9 preamble rows; a fractional apex, an apex
    -1, an onset 0; the short-clip sheet SAMM_Micro_FACS_Codes_v2.xlsx gives 006_1_1's emotion only."""
    seqs = _small(seqs, 48)
    _video(root / "SAMM_longvideos" / "006_1", list(range(1, 41)), lambda n: f"006_1_{n:04d}.jpg", _frames(seqs[0], 40), gray=True)
    _video(root / "SAMM_longvideos" / "007_3", list(range(1, 31)), lambda n: f"007_3_{n:05d}.jpg", _frames(seqs[1 % len(seqs)], 30, 5), gray=True)
    if xls:
        sheet = root / "SAMM_LongVideos_V1_Release.xls"
        _xls_workbook(sheet, "FACS_Movement_Only", samm_lv_rows())
    else:
        sheet = root / "SAMM_LongVideos_V2_Release.xlsx"
        _raw_workbook(sheet, {"FACS_Movement_Only": samm_lv_rows()})
    short = [["SAMM Micro-Expression FACS Codes"]] + [[None]] * 11 + [SAMM_HEADER, [6, "006_1_1", 1, 5562, 5567, 5571, 10, "Micro", "R12", None, "Happiness", 1]]
    _raw_workbook(root / "SAMM_Micro_FACS_Codes_v2.xlsx", {"FACS_Codes": short})
    samples = {
        "006_1@5": {"subject": "samm_006", "onset": 4, "apex": 10, "offset": 13, "type": "ME", "emotion": "Happiness",
                    "notes_has": ["Apex 10.5 rounded half up to 11", "emotion from SAMM_Micro_FACS_Codes_v2.xlsx row 14"]},
        "006_1@0": {"subject": "samm_006", "onset": 0, "apex": 18, "offset": 37, "type": "MaE", "emotion": "",
                    "notes_has": ["onset 0 in the sheet", "onset frame 0 has no file (before the video's first frame): frame 1 used",
                                  "apex not annotated: the middle frame (19) used"]},
        "007_3@3": {"subject": "samm_007", "onset": 2, "apex": 6, "offset": 11, "type": "ME", "emotion": "",
                    "notes_has": ["emotion unknown: Filename 007_3_1 not in SAMM_Micro_FACS_Codes_v2.xlsx"]},
        "007_3@14": {"subject": "samm_007", "onset": 13, "apex": 19, "offset": 26, "type": "MaE", "emotion": "", "notes_has": []},
    }
    return Tree(root, sheet, 10, samples)


CASME3_LONG_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "Expression type", "AU", "Objective class", "emotion"]


def build_casme3_long(root: Path, seqs: list[np.ndarray]) -> Tree:
    """part_A/data/part_A/spNO.1/a/color/N.jpg with numbers from 5 and a gap (12, 13), + depth/; the sheet
    part_A/annotation/CAS(ME)3_part_A_v2.xls (old .xls): a Filename in upper case, an onset in the gap, both
    types, and a row naming a recording that is not there (rejected)."""
    seqs = _small(seqs, 48)
    base = root / "part_A" / "data" / "part_A"
    recs = {("spNO.1", "a"): [n for n in range(5, 31) if n not in (12, 13)], ("spNO.1", "b"): list(range(100, 121)),
            ("spNO.2", "c"): list(range(1, 21))}
    for k, ((sub, fn), numbers) in enumerate(recs.items()):
        seq = _frames(seqs[k % len(seqs)], len(numbers), k)
        _video(base / sub / fn / "color", numbers, lambda n: f"{n}.jpg", seq)
        (base / sub / fn / "depth").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(base / sub / fn / "depth" / f"{numbers[0]}.png"), (cv2.cvtColor(seq[0], cv2.COLOR_RGB2GRAY).astype(np.uint16) * 16))
    rows = [CASME3_LONG_HEADER,
            ["spNO.1", "a", 7, 9, 11, "Micro-expression", "4+7", "negative", "disgust"],
            ["spNO.1", "A", 12, 16, 20, "Macro-expression", "12", "positive", "happy"],
            ["spNO.1", "b", 101, 103, 106, "Micro-expression", "1+2", "surprise", "surprise"],
            ["spNO.2", "c", 3, 8, 19, "Macro-expression", "4", "negative", "anger"],
            ["spNO.2", "d", 3, 5, 9, "Micro-expression", "4", "negative", "anger"]]
    sheet = root / "part_A" / "annotation" / "CAS(ME)3_part_A_v2.xls"
    _xls_workbook(sheet, "Sheet1", rows)
    samples = {
        "spNO.1/a/color@7": {"subject": "casme3_spNO.1", "onset": 2, "apex": 4, "offset": 6, "type": "ME", "emotion": "disgust", "notes_has": []},
        "spNO.1/a/color@12": {"subject": "casme3_spNO.1", "onset": 7, "apex": 9, "offset": 13, "type": "MaE", "emotion": "happy",
                              "notes_has": ["Filename 'A' matched folder 'a' (case differs)", "onset frame 12 has no file (in a gap of the frame files): frame 14 used"]},
        "spNO.1/b/color@101": {"subject": "casme3_spNO.1", "onset": 1, "apex": 3, "offset": 6, "type": "ME", "emotion": "surprise", "notes_has": []},
        "spNO.2/c/color@3": {"subject": "casme3_spNO.2", "onset": 2, "apex": 7, "offset": 18, "type": "MaE", "emotion": "anger", "notes_has": []},
    }
    return Tree(root, sheet, 1, samples)


# --- CASME (the first release) ----------------------------------------------------------------
CASME_HEADER = ["Subject", "Filename", None, "OnsetF", "ApexF1", "ApexF2", "OffsetF", None, "Onset", "Total", "AU", "Emotion"]
# subject, filename, section, first file number, n files, onset, apex1, apex2 ("\\" when one frame), offset, AU, emotion
CASME_SPEC = [
    (1, "EP01_5", "A", 111, 8, 112, 115, 116, 118, "12", "happiness"),
    (1, "EP03_1", "A", 79, 8, 79, 82, "\\", 86, "4+17", "repression"),
    (2, "EP08_2", "A", 40, 7, 40, 43, "\\", 46, "R14A+38", "contempt"),
    (8, "EP03_2", "B", 58, 8, 59, 61, 62, 65, "4", "tense"),
    (9, "EP12_1", "B", 7, 8, 7, 10, "\\", 14, "1+2", "surprise"),
]
CASME_SECTIONS = {"A": "RAW/CASME_A/Section A", "B": "RAW/CASME_B/Section B"}


def casme_frame_name(filename: str, section: str, n: int) -> str:
    """Section A names frames "EP01_5-1.jpg"; Section B pads the number to three digits ("EP03_2-061.jpg")."""
    return f"{filename}-{n}.jpg" if section == "A" else f"{filename}-{n:03d}.jpg"


def write_casme_sheet(path: Path, edits: dict[tuple[int, str], object] | None = None) -> None:
    """CASME-coded-20190721.xls as released (an old .xls: spacer columns, "\\" ApexF2 cells, durations in ms);
    edits: {(data row, column name): value} applied to the spec rows."""
    import xlwt

    edits = edits or {}
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Sheet1")
    for j, h in enumerate(CASME_HEADER):
        if h is not None:
            ws.write(0, j, h)
    for i, (sub, fn, _, _, _, on, ap, ap2, off, aus, emo) in enumerate(CASME_SPEC):
        row = [sub, fn, None, on, ap, ap2, off, None, round(1000 * (ap - on) / 60, 6), round(1000 * (off - on + 1) / 60, 6), aus, emo]
        for j, v in enumerate(row):
            v = edits.get((i, CASME_HEADER[j]), v) if CASME_HEADER[j] else v
            if v is not None:
                ws.write(1 + i, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))


def build_casme(root: Path, seqs: list[np.ndarray]) -> Tree:
    """RAW/CASME_A/Section A/subNN/EPxx_x/EPxx_x-N.jpg and RAW/CASME_B/Section B/… (three-digit frame
    numbers) + CASME-coded-20190721.xls (the released .xls)."""
    rows_au = {"12": "AU12", "4+17": "AU4+AU17", "R14A+38": "AU14", "4": "AU4", "1+2": "AU1+AU2"}
    samples = {}
    for k, (sub, fn, sec, first, n, on, ap, ap2, off, aus, emo) in enumerate(CASME_SPEC):
        folder = root / CASME_SECTIONS[sec] / f"sub{sub:02d}" / fn
        for i, img in enumerate(_frames(seqs[k % len(seqs)], n, 2 * k)):
            _write(folder / casme_frame_name(fn, sec, first + i), img)
        sel = [x for x in range(first, first + n) if on <= x <= off]
        samples[f"casme_sub{sub:02d}_{fn}"] = {
            "subject": f"casme_sub{sub:02d}", "label": emo, "num_frames": len(sel), "onset": 0, "apex": sel.index(ap),
            "apex_estimated": False, "frame_start": on, "frame_stop": off, "au_target": rows_au[aus],
            "path": f"{CASME_SECTIONS[sec]}/sub{sub:02d}/{fn}",
        }
    sheet = root / "CASME-coded-20190721.xls"
    write_casme_sheet(sheet)
    return Tree(root, sheet, 1, samples)
