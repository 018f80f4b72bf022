"""Evaluation of generated clips (docs/design.md §6–7): identity, perceptual, temporal, motion profile,
expression fidelity and distribution metrics, the suite that runs them over clip sets, and the HTML report.

    from mexkit.eval import EvalSuite, open_clip_set, write_eval_report
    result = EvalSuite().run(open_clip_set("runs/gen"), open_clip_set("corpus"), out_dir="runs/eval")
    write_eval_report(result, "runs/eval/report.html")
"""
from __future__ import annotations

_EXPORTS = {
    "EvalSuite": "suite", "EvalResult": "suite", "FAMILIES": "suite",
    "ClipSet": "clip_sets", "open_clip_set": "clip_sets",
    "HtmlReport": "report", "build_eval_report": "eval_report", "write_eval_report": "eval_report",
    "IdentityScorer": "identity", "average_content_distance": "identity", "load_identity_model": "identity",
    "LPIPS": "perceptual", "PerceptualScorer": "perceptual", "ssim_frames": "perceptual", "psnr_frames": "perceptual",
    "TemporalScorer": "temporal", "temporal_scores": "temporal",
    "MotionProfileScorer": "motion_profile", "displacement_curve": "motion_profile", "profile_stats": "motion_profile",
    "ExpressionScorer": "expression", "megc_class": "expression",
    "MiniXception": "fer_net", "load_fer_net": "fer_net", "fer_probabilities": "fer_net",
    "frechet_distance": "distribution", "classification_accuracy_score": "distribution", "flow_statistics_features": "distribution",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import submodules on first use, so `import mexkit.eval` stays light."""
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
