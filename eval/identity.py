"""Identity metrics: embedding cosine to the neutral input (mean, min over frames), ACD (MoCoGAN), and CSIM.

Embedders take template-aligned crops (N, S, S, 3) uint8 and return (N, D) embeddings. The default is
dlib's ResNet descriptor (offline, `mexkit.face.identity.DlibIdentity`); a user model can be given by
path: TorchScript (.pt/.pth/.ts/.jit), torch.export (.pt2) or ONNX (.onnx, run by onnxruntime).

CSIM, the identity score of talking-head and reenactment papers, is the cosine of ArcFace embeddings:
`csim=` an ArcFace ONNX file the user supplies (InsightFace's interface, e.g. w600k_mbf.onnx: 1×3×112×112
RGB scaled (x − 127.5)/127.5 → 512; never shipped, docs/assets.md), reported beside dlib's cosine as
csim_mean / csim_min / csim_apex. Each crop is first warped onto ArcFace's 112-px five-point template by
the similarity that takes mexkit's template eyes to ArcFace's (`ArcFaceIdentity`).
"""
from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import Protocol, Sequence

import cv2
import numpy as np

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.face.identity import cosine_similarity


class Embedder(Protocol):
    name: str

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 aligned crops → (N, D) float embeddings."""


def _model_inputs(crops: np.ndarray, size: int, mean: Sequence[float], std: Sequence[float], bgr: bool) -> np.ndarray:
    """(N, S, S, 3) uint8 → (N, 3, size, size) float32 normalised as (x/255 - mean) / std."""
    crops = np.asarray(crops)
    if crops.ndim == 3:
        crops = crops[None]
    x = np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA if c.shape[0] > size else cv2.INTER_LINEAR) for c in crops])
    if bgr:
        x = x[..., ::-1]
    x = (x.astype(np.float32) / 255.0 - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


class TorchScriptIdentity:
    """A user's torch face-embedding model — TorchScript (.pt/.pth/.ts/.jit) or torch.export (.pt2):
    (N, 3, size, size) float → (N, D).

    The whole aligned crop is resized to `size`; inputs are RGB (or BGR) scaled as (x/255 - mean)/std
    (ArcFace-style models: size 112, mean = std = 0.5).
    """

    def __init__(self, path: str | Path, size: int = 112, mean: Sequence[float] = (0.5, 0.5, 0.5),
                 std: Sequence[float] = (0.5, 0.5, 0.5), bgr: bool = False, batch_size: int = 32):
        import torch

        path = Path(path)
        if not path.is_file():
            raise MexkitInputError(path, "identity model file not found", "pass the path of a TorchScript (.pt) or ONNX (.onnx) face-embedding model", stage="identity")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # torch ≥ 2.9 flags torch.jit as deprecated
                if path.suffix.lower() == ".pt2":
                    self.model = torch.export.load(str(path)).module()
                else:
                    self.model = torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, ValueError, OSError, zipfile.BadZipFile) as err:
            kind = "torch.export" if path.suffix.lower() == ".pt2" else "TorchScript"
            raise MexkitInputError(path, f"not a {kind} model ({str(err).splitlines()[0] if str(err) else type(err).__name__})",
                                   "save it with torch.export.save(torch.export.export(model, (example,)), 'model.pt2'), "
                                   "torch.jit.script(model).save('model.pt'), or give an .onnx file", stage="identity") from None
        self.name = f"torch:{path.name}"
        self.size, self.mean, self.std, self.bgr, self.batch_size = size, mean, std, bgr, batch_size

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        import torch

        x = _model_inputs(crops, self.size, self.mean, self.std, self.bgr)
        with torch.no_grad():
            out = [self.model(torch.from_numpy(x[i:i + self.batch_size])) for i in range(0, len(x), self.batch_size)]
        return torch.cat([o if o.ndim == 2 else o.flatten(1) for o in out]).float().numpy()


class OnnxIdentity:
    """A user's ONNX face-embedding model (needs `pip install onnxruntime`); inputs as TorchScriptIdentity."""

    def __init__(self, path: str | Path, size: int = 112, mean: Sequence[float] = (0.5, 0.5, 0.5),
                 std: Sequence[float] = (0.5, 0.5, 0.5), bgr: bool = False):
        path = Path(path)
        if not path.is_file():
            raise MexkitInputError(path, "identity model file not found", "check the path of the .onnx file", stage="identity")
        try:
            import onnxruntime as ort
        except ImportError:
            raise MexkitInputError(path, "ONNX identity models need onnxruntime, which is not installed",
                                   "pip install onnxruntime (optional dependency), or convert the model to TorchScript", stage="identity") from None
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.name = f"onnx:{path.name}"
        self.size, self.mean, self.std, self.bgr = size, mean, std, bgr

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        x = _model_inputs(crops, self.size, self.mean, self.std, self.bgr)
        return np.asarray(self.session.run(None, {self.input_name: x})[0], np.float32).reshape(len(x), -1)


# InsightFace's 112×112 ArcFace template: eye centres (image left, image right)
ARCFACE_EYES = ((38.2946, 51.6963), (73.5318, 51.5014))
ARCFACE_SIZE = 112


def arcface_affine(size: int) -> np.ndarray:
    """2×3 similarity taking a mexkit template-aligned crop of `size` px onto ArcFace's 112-px template
    (mexkit's eye centres onto ArcFace's)."""
    from mexkit.face.align import template_eyes

    s1, s2 = (complex(*p) for p in template_eyes(size))
    d1, d2 = (complex(*p) for p in ARCFACE_EYES)
    a = (d2 - d1) / (s2 - s1)
    b = d1 - a * s1
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]], np.float64)


class ArcFaceIdentity:
    """A user's ArcFace ONNX model (InsightFace interface: (N or 1, 3, 112, 112) float RGB, (x − 127.5)/127.5
    → (N, 512)), fed mexkit-aligned crops warped onto ArcFace's template. A model with a fixed batch of 1
    is run one crop at a time."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.is_file():
            raise MexkitInputError(path, "ArcFace model file not found", "pass the path of an ArcFace .onnx file (e.g. InsightFace's w600k_mbf.onnx)", stage="identity")
        import onnxruntime as ort

        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as err:  # not an ONNX file, or one onnxruntime cannot run
            raise MexkitInputError(path, f"not a runnable ONNX model ({str(err).splitlines()[0][:160] if str(err) else type(err).__name__})",
                                   "give an ArcFace .onnx file (1×3×112×112 → 512)", stage="identity") from None
        inp = self.session.get_inputs()[0]
        if list(inp.shape[1:]) != [3, ARCFACE_SIZE, ARCFACE_SIZE]:
            raise MexkitInputError(path, f"input shape {inp.shape} is not ArcFace's (N, 3, 112, 112)", "give an ArcFace .onnx file", stage="identity")
        self.input_name = inp.name
        self.one_at_a_time = isinstance(inp.shape[0], int) and inp.shape[0] == 1
        self.name = f"arcface:{path.name}"

    def inputs(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 mexkit-aligned crops → (N, 3, 112, 112) float32 ArcFace inputs."""
        crops = np.asarray(crops)
        if crops.ndim == 3:
            crops = crops[None]
        m = arcface_affine(crops.shape[1])
        x = np.stack([cv2.warpAffine(c, m, (ARCFACE_SIZE, ARCFACE_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
                      for c in crops]).astype(np.float32)
        return np.ascontiguousarray(((x - 127.5) / 127.5).transpose(0, 3, 1, 2))

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        x = self.inputs(crops)
        if self.one_at_a_time:
            out = [self.session.run(None, {self.input_name: x[i:i + 1]})[0] for i in range(len(x))]
            return np.concatenate(out).astype(np.float32).reshape(len(x), -1)
        return np.asarray(self.session.run(None, {self.input_name: x})[0], np.float32).reshape(len(x), -1)


def load_identity_model(model: str | Path | Embedder | None = None, **kwargs) -> Embedder:
    """None or "dlib" → dlib ResNet; a path → TorchScript (.pt/.pth/.ts/.jit), torch.export (.pt2) or ONNX (.onnx);
    an embedder object is returned as is. kwargs: input size/mean/std/bgr of a path model."""
    if model is None or (isinstance(model, str) and model == "dlib"):
        from mexkit.face.identity import DlibIdentity

        return DlibIdentity()
    if not isinstance(model, (str, Path)):
        return model
    path = Path(model)
    if path.suffix.lower() == ".onnx":
        return OnnxIdentity(path, **kwargs)
    if path.suffix.lower() in {".pt", ".pth", ".ts", ".jit", ".torchscript", ".pt2"}:
        return TorchScriptIdentity(path, **kwargs)
    raise MexkitInputError(path, f"unknown identity model type {path.suffix!r}", "use 'dlib', a TorchScript .pt, a torch.export .pt2 or an .onnx file", stage="identity")


def normalize(emb: np.ndarray) -> np.ndarray:
    emb = np.asarray(emb, np.float64)
    return emb / np.maximum(np.linalg.norm(emb, axis=-1, keepdims=True), 1e-12)


def average_content_distance(emb: np.ndarray) -> float:
    """ACD (MoCoGAN, Tulyakov et al. 2018): mean pairwise L2 distance of a clip's unit-normalised frame embeddings."""
    e = normalize(emb)
    n = len(e)
    if n < 2:
        return 0.0
    d = np.sqrt(np.maximum(((e[:, None] - e[None]) ** 2).sum(-1), 0.0))
    return float(d[np.triu_indices(n, 1)].mean())


class IdentityScorer:
    """Per-clip identity scores. `neutral`: the generator's input crop; default the clip's onset frame.

    Returns id_cos_mean / id_cos_min / id_cos_apex (cosine of each frame's embedding to the neutral one;
    the neutral frame itself is left out when it is taken from the clip) and acd; with `csim` (an ArcFace
    ONNX path or embedder) also csim_mean / csim_min / csim_apex, the same cosines in ArcFace's space.
    Embeddings of the neutral input are cached per source, so many clips from one face embed it once.
    """

    family = "identity"

    def __init__(self, model: str | Path | Embedder | None = None, frame_stride: int = 1, csim: str | Path | Embedder | None = None):
        self.embedder = load_identity_model(model)
        self.csim = ArcFaceIdentity(csim) if isinstance(csim, (str, Path)) else csim
        self.frame_stride = max(1, int(frame_stride))
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def embed(self, crops: np.ndarray, embedder: Embedder | None = None) -> np.ndarray:
        return np.asarray((embedder or self.embedder).embed_aligned(np.asarray(crops)), np.float64)

    def _neutral_embedding(self, neutral: np.ndarray, key: str | None, embedder: Embedder) -> np.ndarray:
        if key and (key, embedder.name) in self._cache:
            return self._cache[(key, embedder.name)]
        e = self.embed(neutral[None], embedder)[0]
        if key:
            self._cache[(key, embedder.name)] = e
        return e

    def _cosines(self, clip: Clip, idx: np.ndarray, neutral, neutral_key, embedder: Embedder) -> tuple[np.ndarray, float, np.ndarray]:
        """(cosines of the frames to the neutral, the apex's cosine, the frames' embeddings) in `embedder`'s space."""
        emb = self.embed(clip.frames[idx], embedder)
        if neutral is None:
            ref = emb[list(idx).index(clip.onset)] if clip.onset in idx else self.embed(clip.frames[clip.onset][None], embedder)[0]
            others = emb[idx != clip.onset] if len(idx) > 1 else emb
        else:
            ref = self._neutral_embedding(self._fit(neutral, clip.size), neutral_key, embedder)
            others = emb
        return cosine_similarity(others, ref), float(cosine_similarity(emb[list(idx).index(clip.apex)], ref)), emb

    def __call__(self, clip: Clip, neutral: np.ndarray | None = None, neutral_key: str | None = None) -> dict[str, float]:
        idx = np.arange(0, clip.num_frames, self.frame_stride)
        if clip.apex not in idx:
            idx = np.sort(np.append(idx, clip.apex))
        cos, apex, emb = self._cosines(clip, idx, neutral, neutral_key, self.embedder)
        row = {
            "id_cos_mean": float(cos.mean()),
            "id_cos_min": float(cos.min()),
            "id_cos_apex": apex,
            "acd": average_content_distance(emb),
            "id_frames": int(len(idx)),
        }
        if self.csim is not None:
            cos, apex, _ = self._cosines(clip, idx, neutral, neutral_key, self.csim)
            row.update(csim_mean=float(cos.mean()), csim_min=float(cos.min()), csim_apex=apex)
        return row

    @staticmethod
    def _fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Resize an aligned neutral crop to the clip's crop size (both use the same template)."""
        if image.shape[:2] == size:
            return image
        return cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def verification_pairs(emb: np.ndarray, subjects: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of every pair of embeddings, split into (same-subject, different-subject) pairs."""
    e = normalize(emb)
    s = np.asarray(subjects)
    cos = e @ e.T
    iu = np.triu_indices(len(e), 1)
    same = s[iu[0]] == s[iu[1]]
    return cos[iu][same], cos[iu][~same]


def verification_auc(same: np.ndarray, different: np.ndarray) -> float:
    """ROC AUC of cosine as a same-person score (probability a same pair beats a different pair)."""
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.ones(len(same)), np.zeros(len(different))]
    return float(roc_auc_score(y, np.r_[same, different]))
