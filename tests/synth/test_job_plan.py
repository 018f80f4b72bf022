"""The job plan (synth/writer/jobs.py): deterministic ids, order, duplicates, and the checks made up front."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from mexkit.errors import MexkitInputError
from mexkit.synth.warp.generator import WarpGenerator
from mexkit.synth.writer import faces_from_corpus, generate_dataset, make_sample_id, plan_jobs
from mexkit.synth.writer.distributed import generate_dataset_distributed
from mexkit.video_io import natural_key


@pytest.fixture(scope="module")
def corpus_faces():
    return faces_from_corpus()


def test_job_list_is_deterministic_sorted_and_order_free(corpus_faces):
    gen = WarpGenerator()
    kw = dict(classes=["positive", "negative"], intensity=(0.2, 0.6), per_face=3, seed=5)
    jobs = plan_jobs(gen, corpus_faces, **kw).jobs
    assert len(jobs) == 36 and len({j.sample_id for j in jobs}) == 36
    assert jobs == plan_jobs(gen, list(reversed(corpus_faces)), **kw).jobs
    keys = [(natural_key(j.source.key), j.index) for j in jobs]
    assert keys == sorted(keys)
    # a sample's id and content do not depend on which other faces are in the run
    alone = plan_jobs(gen, corpus_faces[3:4], **kw).jobs
    assert [j.sample_id for j in alone] == [j.sample_id for j in jobs if j.source.key == corpus_faces[3].key]
    labels = [j.condition.label for j in alone]
    assert labels[0] == labels[2] != labels[1]  # the two classes alternate
    # with one sample per face the classes still spread over the faces
    one_each = plan_jobs(gen, corpus_faces, classes=["positive", "negative", "surprise"], intensity=0.3, per_face=1, seed=0).jobs
    assert {j.condition.label for j in one_each} == {"positive", "negative", "surprise"}
    # anything in the id's recipe changes it: other weights (another warp setting), another generator name
    other_gen = WarpGenerator(au_jitter=0.2)
    assert other_gen.weights_hash() != gen.weights_hash()
    other = plan_jobs(other_gen, corpus_faces[3:4], **kw).jobs
    assert not {j.sample_id for j in other} & {j.sample_id for j in alone}
    j = alone[0]
    assert j.sample_id == make_sample_id("warp", gen.weights_hash(), j.source.sha, j.condition, j.seed)
    assert j.sample_id != make_sample_id("warp-2", gen.weights_hash(), j.source.sha, j.condition, j.seed)


def test_duplicate_faces_are_planned_once(corpus_faces):
    copy = dataclasses.replace(corpus_faces[2], key="zz/copy-of-" + corpus_faces[2].key)
    plan = plan_jobs(WarpGenerator(), [*corpus_faces[:4], copy], classes=["positive"], per_face=2)
    assert [(d.key, k.key) for d, k in plan.duplicates] == [(copy.key, corpus_faces[2].key)]
    assert len(plan.jobs) == 8 and copy.key not in {j.source.key for j in plan.jobs}


def test_offset_at_and_conditions_reach_the_jobs(corpus_faces):
    gen = WarpGenerator()
    late = plan_jobs(gen, corpus_faces[:2], classes=["surprise"], offset_at=0.7).jobs
    assert {j.condition.offset_at for j in late} == {0.7}
    default = plan_jobs(gen, corpus_faces[:2], classes=["surprise"]).jobs
    assert not {j.sample_id for j in late} & {j.sample_id for j in default}


def test_plan_refuses_what_the_generator_cannot_make(corpus_faces):
    gen = WarpGenerator()
    for kwargs, match in [({"classes": ["happy"]}, "unknown class 'happy'"), ({"aus": ["AU99"]}, "unknown action unit"),
                          ({"per_face": 0}, "per-face"), ({"intensity": "0.2:1.5"}, "not within"), ({"classes": []}, "no class")]:
        with pytest.raises(MexkitInputError, match=match):
            plan_jobs(gen, corpus_faces, **kwargs)
    with pytest.raises(TypeError, match="not a mexkit generator"):
        plan_jobs(lambda face, condition, generator=None: None, corpus_faces)


def test_both_entries_take_every_planning_argument_with_the_same_default():
    """The single-process and the distributed entry forward the same request to plan_jobs: they cannot drift."""
    plan = inspect.signature(plan_jobs).parameters
    for entry in (generate_dataset, generate_dataset_distributed):
        params = inspect.signature(entry).parameters
        for name, p in plan.items():
            assert name in params, f"{entry.__name__} lacks {name}"
            assert params[name].default == p.default, f"{entry.__name__}: {name} defaults to {params[name].default!r}, plan_jobs to {p.default!r}"
