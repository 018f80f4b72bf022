"""`KeptRecognizer`: a recognizer fitted once on all its training rows, kept on disk and used on new clips
(docs/design.md §5 "Kept recognizers").

    rec = load_recognizer("mexkit-demo")          # or a folder written by `mexkit recog fit`
    table = rec.predict_clips(clips)              # one row per clip (pandas DataFrame)

It holds the fitted heads (`class`, and `aus` when it has an AU head), the exact feature settings the
fit used (`feature`), what input it expects (`input`: crop resolution, alignment) and what its scores
are (`score_kind`: decision / softmax / prob, docs/design.md §5). `fit_kept` makes one from a SampleSet
with the runner's own pieces (features.FEATURES, loso.clone_model), so a kept model is the model a LOSO
fold would train, fitted on every row.

Clips given to `predict_clips` must be aligned face crops as the training clips were (the corpus's,
the writer's, `FacePipeline.align_clip` output: eye-template crops aligned once on the onset frame);
square crops of another size are resized to `input["resolution"]`. A clip needs onset < apex for
flow features and onset < offset for frame features (a 1-frame clip has neither).
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .kept_scores import CALIBRATIONS, PlattCalibration, calibration_folds as internal_folds, model_target, raw_score_kind, raw_scores

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
FRAME_SAMPLING = {"flow_strain": "onset and apex frames (flow onset→apex)",
                  "lbptop": "num_frames frames evenly spaced from onset to offset (nearest frame)",
                  "frames": "num_frames frames evenly spaced from onset to offset (nearest frame)"}


def pretrained_names() -> list[str]:
    """Names of the shipped model folders (recog/pretrained/NAME/config.json)."""
    return sorted(p.parent.name for p in PRETRAINED_DIR.glob("*/config.json"))


def resolve_model_path(path_or_name: str | Path) -> Path:
    """A model folder: an existing path as given, else a shipped model's name (`mexkit-demo`)."""
    p = Path(path_or_name)
    if p.exists():
        return p
    shipped = PRETRAINED_DIR / str(path_or_name)
    if str(path_or_name) in pretrained_names():
        return shipped
    raise MexkitInputError(path_or_name, "model folder not found",
                           f"pass a folder written by `mexkit recog fit`, or a shipped model: {', '.join(pretrained_names()) or '(none)'}",
                           stage="model")


def full_feature(feature: dict[str, Any]) -> dict[str, Any]:
    """Every setting of a feature, its defaults filled in ({kind, ...}); for flow_strain the flow method
    is the one that really runs here (TV-L1 falls back to DIS without opencv-contrib), so predict
    computes exactly what fit saw."""
    from mexkit.optical_flow import resolve_method

    from .features import FEATURES

    feature = dict(feature)
    kind = feature.pop("kind")
    if kind not in FEATURES:
        raise ValueError(f"unknown feature kind {kind!r}; choose one of {sorted(FEATURES)}")
    sig = inspect.signature(FEATURES[kind])
    params = {n: p.default for n, p in list(sig.parameters.items())[1:] if p.default is not inspect.Parameter.empty}
    unknown = sorted(set(feature) - set(params))
    if unknown:
        raise ValueError(f"unknown {kind} settings {unknown}; valid: {sorted(params)}")
    params.update(feature)
    if kind == "flow_strain":
        params["method"] = resolve_method(params["method"])
    return {"kind": kind, **params}


def _model_outputs(model: Any) -> int | None:
    """How many outputs a fitted model scores: its classes (or AUs), or a network's head width."""
    classes = getattr(model, "classes_", None)
    if classes is not None:
        return len(classes)
    n = getattr(model, "num_outputs", None)
    n = getattr(model, "num_classes", None) if n is None else n
    return int(n) if n is not None else None


def _resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    import cv2

    interp = cv2.INTER_AREA if frames.shape[1] > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (size, size), interpolation=interp) for f in frames])


@dataclass
class KeptRecognizer:
    """classes: class order (score columns follow it); feature: {kind, every setting}; heads: fitted
    models by head name ("class", optionally "aus"); head_info: per head {class_path, init_args, outputs,
    score_kind, calibration}; input: {resolution, align, frame_sampling}; training: what trained it (the
    model card's facts)."""

    classes: tuple[str, ...]
    feature: dict[str, Any]
    heads: dict[str, Any]
    head_info: dict[str, dict[str, Any]]
    input: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    # --- what it is -------------------------------------------------------------------------------
    @property
    def score_kind(self) -> str:
        """What the class scores are: "decision", "softmax" (uncalibrated) or "prob" (calibrated) — the AU
        head's ("decision", "sigmoid", "prob") for a model without a class head."""
        return self.head_info["class" if "class" in self.heads else "aus"]["score_kind"]

    @property
    def au_names(self) -> tuple[str, ...]:
        """The AUs of the AU head, in column order; () without one."""
        return tuple(self.head_info["aus"]["outputs"]) if "aus" in self.heads else ()

    @property
    def columns(self) -> list[str]:
        """The columns of `predict_clips` / predictions.csv, in order."""
        cols = ["sample_id", "input", "label"]
        if "class" in self.heads:
            cols += ["predicted", *[f"{self.head_info['class']['score_kind']}_{c}" for c in self.classes]]
        if self.au_names:
            kind = self.head_info["aus"]["score_kind"]
            cols += ["aus_predicted", *[f"au_{kind}_{a}" for a in self.au_names]]
        return cols

    # --- features ---------------------------------------------------------------------------------
    def check_clip(self, clip: Clip) -> Clip:
        """The clip as the features need it: resized to the training resolution when square crops of
        another size; a MexkitInputError naming the clip when its features cannot be computed."""
        where = clip.source or clip.sample_id
        kind = self.feature["kind"]
        if clip.num_frames < 2:
            raise MexkitInputError(where, f"clip has {clip.num_frames} frame: a recognizer needs an onset and a later frame",
                                   "give clips of at least two frames (onset before apex)", stage="features")
        if kind == "flow_strain" and clip.apex <= clip.onset:
            raise MexkitInputError(where, f"onset and apex are the same frame ({clip.onset}): no onset→apex motion to measure",
                                   "set the apex after the onset (or leave it unset: the middle of onset..offset)", stage="features")
        if kind != "flow_strain" and clip.offset <= clip.onset:
            raise MexkitInputError(where, f"onset and offset are the same frame ({clip.onset})", "give a clip whose offset is after its onset",
                                   stage="features")
        res = self.input.get("resolution")
        h, w = clip.size
        if res and (h, w) != (res, res):
            if h != w:
                raise MexkitInputError(where, f"frames are {w}×{h}, not square aligned face crops (this model was fitted on {res}² crops)",
                                       "align the clip first (FacePipeline.align_clip, or give a video file / an align setting)",
                                       stage="features")
            clip = clip.with_frames(_resize_frames(clip.frames, int(res)))
        return clip

    def clip_feature(self, clip: Clip) -> np.ndarray:
        """The feature of one clip, exactly as fit computed it → float32 array."""
        from mexkit.optical_flow import tvl1_available

        from .features import FEATURES

        params = {k: v for k, v in self.feature.items() if k != "kind"}
        if params.get("method") == "tvl1" and not tvl1_available():
            raise MexkitInputError(self.path, "this model's features use TV-L1 optical flow, which needs opencv-contrib-python",
                                   "install opencv-contrib-python (a mexkit dependency)", stage="features")
        return np.asarray(FEATURES[self.feature["kind"]](self.check_clip(clip), **params), dtype=np.float32)

    def features(self, clips: Iterable[Clip], rejects: RejectLog | None = None, progress: bool = False,
                 total: int | None = None) -> tuple[np.ndarray, list[dict[str, str]]]:
        """(N, ...) features of the clips whose features can be computed, and {sample_id, input, label} of
        each of them. With a reject log, a bad clip is logged and skipped; without, it raises."""
        out, kept = [], []
        for clip in tqdm(clips, desc=f"features ({self.feature['kind']})", unit="clip", disable=not progress, total=total,
                         dynamic_ncols=True):
            try:
                out.append(self.clip_feature(clip))
            except (MexkitInputError, ValueError, OSError) as err:
                if rejects is None:
                    raise
                rejects.add_error(clip.source or clip.sample_id, err, stage="features")
                continue
            kept.append({"sample_id": clip.sample_id, "input": clip.source, "label": clip.label or ""})
        x = np.stack(out) if out else np.zeros((0,), np.float32)
        return x, kept

    # --- scores -----------------------------------------------------------------------------------
    def head_scores(self, name: str, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(scores (N, outputs) float64, predictions) of one head on features X. Class head: predictions
        are class indices (N,) — argmax of the calibrated probabilities when calibrated, else the model's
        own predict. AU head: (N, A) 0/1."""
        model, info = self.heads[name], self.head_info[name]
        k = len(info["outputs"])
        if len(X) == 0:
            return np.zeros((0, k)), np.zeros((0,) if name == "class" else (0, k), np.int64)
        raw = raw_scores(model, X, k)
        cal = info.get("calibration")
        if cal:
            scores = PlattCalibration.from_dict(cal)(raw)
            pred = scores.argmax(axis=1) if name == "class" else (scores >= 0.5).astype(np.int64)
        else:
            scores = raw
            pred = np.asarray(model.predict(X)).astype(np.int64)
        return scores, pred

    def predict_features(self, X: np.ndarray, sample_ids: Sequence[str], inputs: Sequence[str] = (),
                         labels: Sequence[str] = ()) -> pd.DataFrame:
        """The predictions table (columns `columns`) of features X (N, ...)."""
        n = len(sample_ids)
        table = {"sample_id": list(sample_ids), "input": list(inputs) or [""] * n, "label": list(labels) or [""] * n}
        if "class" in self.heads:
            scores, pred = self.head_scores("class", X)
            table["predicted"] = [self.classes[i] for i in pred]
            for j, c in enumerate(self.classes):
                table[f"{self.head_info['class']['score_kind']}_{c}"] = scores[:, j]
        if self.au_names:
            au_scores, au_pred = self.head_scores("aus", X)
            kind = self.head_info["aus"]["score_kind"]
            table["aus_predicted"] = ["+".join(a for a, on in zip(self.au_names, row) if on) for row in au_pred]
            for j, a in enumerate(self.au_names):
                table[f"au_{kind}_{a}"] = au_scores[:, j]
        return pd.DataFrame(table, columns=self.columns)

    def predict_clips(self, clips: Iterable[Clip], rejects: RejectLog | None = None, progress: bool = False,
                      inputs: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per clip (columns `columns`): sample_id, input (the clip's source, or `inputs`), label (the
        clip's own, "" when unknown), predicted class, a score per class, and the AU columns when the model
        has an AU head. Clips: aligned face crops, any length ≥ 2 frames, any fps. With `rejects`, a clip
        whose features cannot be computed is logged there and left out; without, it raises."""
        total = len(clips) if hasattr(clips, "__len__") else None  # a generator is read one clip at a time
        if inputs is not None:
            clips = (c.with_frames(c.frames, source=str(s)) for c, s in zip(clips, inputs))
        X, kept = self.features(clips, rejects, progress=progress, total=total)
        return self.predict_features(X, [c["sample_id"] for c in kept], [c["input"] for c in kept], [c["label"] for c in kept])

    # --- disk -------------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """config.json's content (the weights' file names and hashes are added when written)."""
        import mexkit

        from .features import feature_info

        kind = self.feature["kind"]
        return {
            "format": "mexkit-recognizer", "format_version": 1, "mexkit_version": mexkit.__version__,
            "classes": list(self.classes), "label_map": {c: i for i, c in enumerate(self.classes)},
            "input": {**self.input, "feature": dict(self.feature),
                      "feature_info": feature_info(kind, {k: v for k, v in self.feature.items() if k != "kind"}),
                      "frame_sampling": FRAME_SAMPLING.get(kind, "")},
            "heads": {name: dict(info) for name, info in self.head_info.items()},
            "training": self.training,
        }

    def save(self, out: str | Path, card: str | None = None, files: dict[str, str] | None = None) -> Path:
        """Write the model folder (atomically; docs/design.md §5): config.json, weights, README.md (`card`,
        else one made from `training`), extra text files."""
        from .model_card import model_card
        from .model_folder import write_model_folder

        cfg = self.config()
        return write_model_folder(out, cfg, self.heads, card if card is not None else model_card(cfg), files)

    @classmethod
    def from_folder(cls, folder: str | Path, trusted: Iterable[str] = ()) -> "KeptRecognizer":
        """Read a model folder (every safety check of `model_folder.read_model_folder`) and check that each
        head's model has as many outputs as config.json's label map."""
        from .model_folder import CONFIG_FILE, read_model_folder

        folder = Path(folder)
        cfg, models = read_model_folder(folder, trusted)
        classes = tuple(cfg["classes"])
        for name, model in models.items():
            outputs = cfg["heads"][name]["outputs"]
            n = _model_outputs(model)
            if model_target(model) != ("aus" if name == "aus" else "class"):
                raise MexkitInputError(folder / CONFIG_FILE, f"the {name} head's model learns {model_target(model)!r} targets",
                                       "use the config.json written with these weights", stage="model")
            if n is not None and n != len(outputs):
                raise MexkitInputError(folder / CONFIG_FILE, f"label map disagrees with the model: config.json lists {len(outputs)} "
                                                             f"{name} outputs {outputs}, the {name} head's model has {n}",
                                       "use the config.json written with these weights (`mexkit recog fit` writes both)", stage="model")
            if name == "aus" and getattr(model, "classes_", None) is not None and [str(c) for c in model.classes_] != list(outputs):
                raise MexkitInputError(folder / CONFIG_FILE, f"the AU head's model scores {list(model.classes_)}, config.json lists {outputs}",
                                       "use the config.json written with these weights", stage="model")
            if name == "class" and getattr(model, "classes_", None) is not None and \
                    not np.array_equal(np.asarray(model.classes_), np.arange(len(outputs))):
                raise MexkitInputError(folder / CONFIG_FILE, f"the class head's model scores class indices {list(model.classes_)}, "
                                                             f"not 0..{len(outputs) - 1}", "refit the model on rows of every class", stage="model")
            cal = cfg["heads"][name].get("calibration")
            if cal and int(cal.get("num_classes", -1)) != len(outputs):
                raise MexkitInputError(folder / CONFIG_FILE, f"the calibration is for {cal.get('num_classes')} classes, the label map has "
                                                             f"{len(outputs)}", "use the config.json written with these weights", stage="model")
        inp = {k: v for k, v in (cfg.get("input") or {}).items() if k not in ("feature", "feature_info", "frame_sampling")}
        return cls(classes, dict(cfg["input"]["feature"]), models, {n: dict(h) for n, h in cfg["heads"].items()}, inp,
                   dict(cfg.get("training") or {}), folder)


def load_recognizer(path_or_name: str | Path = "mexkit-demo", trusted: Iterable[str] = ()) -> KeptRecognizer:
    """A kept recognizer from its folder or a shipped name ("mexkit-demo"). `trusted`: extra type names a
    skops file may hold (your own scikit-learn recognizer classes)."""
    return KeptRecognizer.from_folder(resolve_model_path(path_or_name), trusted)


# --- fitting ---------------------------------------------------------------------------------------
@dataclass
class _SizeRecorder:
    """Wraps a sample source; records the (H, W) of every clip it loads (the training crops' resolution)."""

    source: Any
    sizes: set

    @property
    def sample_id(self) -> str:
        return self.source.sample_id

    def describe(self) -> str:
        return self.source.describe() if hasattr(self.source, "describe") else self.sample_id

    def load(self) -> Clip:
        clip = self.source.load()
        self.sizes.add(tuple(clip.size))
        return clip


def _groups(table: pd.DataFrame) -> np.ndarray:
    """Each row's person: the subject of a real row, the source face's subject of a synthetic one."""
    syn = table["synthetic"].to_numpy(bool)
    src = table["source_subject"].astype(str).to_numpy()
    return np.where(syn & (src != ""), src, table["subject"].astype(str).to_numpy())


def prepare_rows(samples, feature: dict[str, Any], rejects: RejectLog | None = None, progress: bool = False):
    """The SampleSet with `feature` ({kind, ...}, see `full_feature`) computed for every row (rows whose
    clip cannot be featurised go to `rejects` and are left out); its sources record the frame size of
    every clip they load (`sources[i].sizes`), which `fit_kept` keeps as the input resolution."""
    from .samples import SampleSet

    feature = full_feature(feature)
    kind, params = feature["kind"], {k: v for k, v in feature.items() if k != "kind"}
    if not (len(samples) and isinstance(samples.sources[0], _SizeRecorder)):
        sizes: set = set()
        samples = SampleSet(samples.table, [_SizeRecorder(s, sizes) for s in samples.sources], samples.classes,
                            dict(samples.features_cache), dict(samples.feature_infos), samples.namespace)
    return samples.prepare(kind, params, rejects=rejects, progress=progress)


def _fit_head(name: str, template: Any, X: np.ndarray, y: np.ndarray, outputs: list[str], groups: np.ndarray, seed: int,
              calibration: str, calibration_folds: int) -> tuple[Any, dict[str, Any]]:
    """One head: the model cloned from `template` with `seed` and fitted on (X, y) — y class indices (N,) for
    the class head, 0/1 AU targets (N, A) for the AU head — and its head info (score kind, calibration)."""
    from .loso import clone_model
    from .model_folder import class_path_of, json_safe

    k = len(outputs)
    model = clone_model(template, seed, k).fit(X, y)
    raw_kind = raw_score_kind(model)
    info: dict[str, Any] = {"outputs": list(outputs), "score_kind": raw_kind, "calibration": None}
    if calibration == "sigmoid":
        strata = y if y.ndim == 1 else np.zeros(len(y), np.int64)  # AU heads: folds grouped by person only
        try:
            splits = internal_folds(strata, groups, calibration_folds, seed)
        except ValueError as err:
            raise MexkitInputError(None, str(err), "fit without calibration (--calibration none) or add subjects", stage="fit") from None
        oof = np.zeros((len(y), k))
        for tr, te in splits:
            lacking = sorted(set(range(k)) - set(y[tr].tolist())) if y.ndim == 1 else []
            if lacking:
                raise MexkitInputError(None, f"an internal calibration fold has no training rows of {[outputs[i] for i in lacking]}",
                                       "use fewer --calibration-folds, add subjects of that class, or --calibration none", stage="fit")
            oof[te] = raw_scores(clone_model(template, seed, k).fit(X[tr], y[tr]), X[te], k)
        cal = PlattCalibration.fit(oof, y, raw_kind, len(splits))
        info.update(score_kind="prob", calibration=cal.to_dict())
    return model, {"class_path": class_path_of(model), "init_args": json_safe(model.get_params(deep=False)), **info}


def fit_kept(samples, template: Any, feature: dict[str, Any] | None = None, seed: int = 0, calibration: str = "none",
             calibration_folds: int = 5, align: str | None = None, rejects: RejectLog | None = None,
             progress: bool = False, au_template: Any = None) -> KeptRecognizer:
    """Fit a kept recognizer on every row of a SampleSet (real and synthetic alike), as a LOSO fold would:
    the same features (`feature`, default the model's input_kind), a fresh model cloned from `template`
    with `seed` (loso.clone_model), its fixed schedule. The template's `target` says which head it is:
    "class" (the class head, on every row) or "aus" (the AU head, on the rows with a 12-AU target; the
    others go to `rejects`). `au_template`: an AU model fitted as a second head beside a class template,
    on the same feature. calibration="sigmoid": Platt sigmoids fitted on out-of-fold scores of
    `calibration_folds` internal folds of the head's rows (grouped by person, seeded); "none": raw scores
    (decision values, softmax or sigmoid). align: the face backend the rows were aligned with (recorded,
    so predict aligns raw inputs the same way). Rows whose features cannot be computed go to `rejects`.
    Raises MexkitInputError when a class has no training row. Pass `prepare_rows(samples, ...)` to reuse
    its features (held-out folds, several fits)."""
    from .loso import default_feature

    if calibration not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {calibration!r}")
    templates = {"aus" if model_target(template) == "aus" else "class": template}
    if au_template is not None:
        if model_target(au_template) != "aus" or "aus" in templates:
            raise ValueError("au_template must be an AU model (target='aus') beside a class template")
        templates["aus"] = au_template
    feature = full_feature(feature or default_feature(template))
    kind, params = feature["kind"], {k: v for k, v in feature.items() if k != "kind"}
    samples = prepare_rows(samples, feature, rejects, progress)
    sizes = samples.sources[0].sizes if len(samples) else set()
    t0 = time.perf_counter()
    heads, infos = {}, {}
    table = samples.table
    groups = _groups(table)
    training: dict[str, Any] = {}
    if "class" in templates:
        X, y = samples.features(kind, **params), samples.y
        k = len(samples.classes)
        counts = np.bincount(y, minlength=k) if len(y) else np.zeros(k, int)
        missing = [c for c, n in zip(samples.classes, counts) if n == 0]
        if missing:
            raise MexkitInputError(None, f"no training rows of class(es) {missing} (rows per class: "
                                         f"{dict(zip(samples.classes, counts.tolist()))})",
                                   "add data of every class, or drop the class from data.classes", stage="fit")
        heads["class"], infos["class"] = _fit_head("class", templates["class"], X, y, list(samples.classes), groups, seed,
                                                   calibration, calibration_folds)
        training["rows_per_class"] = {c: int(n) for c, n in zip(samples.classes, counts)}
    if "aus" in templates:
        from mexkit.datasets.au_targets import MEB_AUS

        au_rows = samples.with_au_targets(rejects)
        if not len(au_rows):
            raise MexkitInputError(None, "no training row has an AU target", "train the AU head on clips with an AU annotation (aus / au_target)",
                                   stage="fit")
        Y = np.asarray(au_rows.Y, dtype=np.int64)
        heads["aus"], infos["aus"] = _fit_head("aus", templates["aus"], au_rows.features(kind, **params), Y, list(MEB_AUS),
                                               _groups(au_rows.table), seed, calibration, calibration_folds)
        training["rows_aus"] = int(len(Y))
        training["au_positives"] = {a: int(n) for a, n in zip(MEB_AUS, Y.sum(axis=0))}
    training = {
        "rows": int(len(table)), "rows_real": int((~table["synthetic"]).sum()), "rows_synthetic": int(table["synthetic"].sum()),
        **training, "subjects": sorted(set(groups.tolist())), "datasets": sorted(set(table["dataset"]) - {""}),
        "synthetic_sources": _synthetic_sources(table), "seed": int(seed), "fit_seconds": round(time.perf_counter() - t0, 3),
        "calibration": calibration, "calibration_folds": int(calibration_folds) if calibration != "none" else 0,
    }
    inp = {"resolution": next(iter(sizes))[0] if len(sizes) == 1 and len(set(next(iter(sizes)))) == 1 else None, "align": align}
    classes = tuple(samples.classes) if "class" in heads else ()
    return KeptRecognizer(classes, feature, heads, infos, inp, training)


def _synthetic_sources(table: pd.DataFrame) -> list[dict[str, Any]]:
    """One entry per generator among the synthetic rows: its name, clip count, source subjects, and the
    union of its `train_subjects` / driving subjects (the writer's provenance columns)."""
    from .samples import split_subjects

    syn = table[table["synthetic"]]
    out = []
    for gen, rows in syn.groupby("generator", sort=True):
        trained = sorted({s for cell in rows["train_subjects"] for s in split_subjects(cell)})
        unknown = any(str(c) == "" for c in rows["train_subjects"])
        driving = sorted({s for cell in rows["driving_subject"] for s in split_subjects(cell)})
        out.append({"generator": gen or "(unnamed)", "clips": int(len(rows)),
                    "source_subjects": sorted(set(rows["source_subject"].astype(str))),
                    "train_subjects": trained if trained else ("unknown" if unknown else "none"),
                    "driving_subjects": driving or "none"})
    return out
