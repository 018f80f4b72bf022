"""face-alignment: without weights a clear error; the wiring runs with random-init FAN weights."""
import numpy as np
import pytest

from mexkit.errors import MissingWeightsError
from mexkit.face import FacePipeline
from mexkit.video_io import read_image


def test_missing_weights_say_what_and_how(tmp_path, monkeypatch):
    monkeypatch.delenv("MEXKIT_FAN_WEIGHTS", raising=False)
    monkeypatch.delenv("TORCH_HOME", raising=False)
    with pytest.raises(MissingWeightsError) as err:
        FacePipeline("face-alignment", weights_dir=tmp_path)
    msg = str(err.value)
    assert "2DFAN4-11f355bf06.pth.tar" in msg and str(tmp_path) in msg and "offline" in msg


def test_random_init_wiring_on_a_real_face(media):
    pipe = FacePipeline("face-alignment", random_init=True)
    img = read_image(media / "single_face.jpg")
    faces = pipe.detect(img)
    assert len(faces) == 1
    lm = faces[0].landmarks
    assert lm.shape == (68, 2)
    x0, y0, x1, y1 = faces[0].bbox
    # heat-map decoding maps every point back into FAN's crop around the detected face (random weights:
    # not onto the features), i.e. within ~1.2 box widths of the box centre and inside the image
    centre, width = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), x1 - x0
    assert (np.abs(lm - centre) < 1.2 * width).all()
    assert (lm >= 0).all() and (lm[:, 0] < img.shape[1]).all() and (lm[:, 1] < img.shape[0]).all()
