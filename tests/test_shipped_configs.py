"""Every shipped YAML in configs/ is read by the one loader (`mexkit.configs.read_config`, found by
`config_path`): training recipes through LightningCLI's parser (parse only, nothing built), recognition
and study configs through the experiment schema."""
from __future__ import annotations

import pytest
import yaml

from mexkit.configs import CONFIG_DIR, config_path, list_configs
from mexkit.errors import MexkitInputError


def _is_training_recipe(name: str) -> bool:
    return "trainer" in yaml.safe_load(config_path(name).read_text())


def test_configs_are_shipped_and_found_by_name_file_name_or_path():
    names = list_configs()
    assert {"mocogan_tiny", "flowdiff_tiny", "recog_ststnet_corpus", "study_corpus_warp"} <= set(names)
    for name in names:
        path = CONFIG_DIR / f"{name}.yaml"
        assert config_path(name) == path == config_path(f"{name}.yaml") == config_path(str(path))
    with pytest.raises(MexkitInputError, match="study_corpus_warp"):  # the error lists what is available
        config_path("no_such_config")


@pytest.mark.parametrize("name", [n for n in list_configs() if _is_training_recipe(n)])
def test_training_recipes_parse_with_lightning_cli(name):
    from mexkit.synth.train_cli import parse_train_config

    given = yaml.safe_load(config_path(name).read_text())
    cfg = parse_train_config(name)
    assert cfg.model.class_path == given["model"]["class_path"]
    assert cfg.data.class_path == given["data"]["class_path"]
    assert cfg.trainer.max_steps == given["trainer"]["max_steps"]


@pytest.mark.parametrize("name", [n for n in list_configs() if not _is_training_recipe(n)])
def test_experiment_configs_parse_with_the_experiment_schema(name):
    from mexkit.recog.experiment import build_model, load_config, model_specs

    given = yaml.safe_load(config_path(name).read_text())
    cfg = load_config(name)
    assert cfg["_path"] == str(config_path(name)) and cfg["out"] == given["out"]
    specs = model_specs(cfg)
    assert len(specs) == len(given.get("models") or [given["model"]])
    for spec in specs.values():
        assert type(build_model(spec)).__name__ == spec["class_path"].rpartition(".")[2]


def test_a_bad_key_in_a_training_recipe_names_the_file(tmp_path):
    from mexkit.synth.train_cli import parse_train_config

    cfg = yaml.safe_load(config_path("mocogan_tiny").read_text())
    cfg["model"]["init_args"]["lr_gen"] = cfg["model"]["init_args"].pop("lr_g")
    bad = tmp_path / "bad_recipe.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    with pytest.raises(MexkitInputError, match="lr_gen") as err:
        parse_train_config(str(bad))
    assert str(bad) in str(err.value)
