r"""A requested modality the data lacks is never dropped silently (issue 16,
seam 8: `MoSE.from_data(VTKG_I, modalities=('structure', 'image'))` on data
without images built a structure-only model without a word)."""
import warnings

import pytest

from pyg_mmkg.nn.models import (VISTA, VLKGE, MissingModalityWarning, MoMoK,
                                MoSE)
from pyg_mmkg.train.run import select_modalities


@pytest.fixture(scope='module')
def text_only(tmp_path_factory):
    from pyg_mmkg.datasets import VTKG_I
    data = VTKG_I(str(tmp_path_factory.mktemp('vtkg')))[0]
    return select_modalities(data, ('structure', 'text'))  # no x_image


@pytest.mark.parametrize('cls', [MoSE, VLKGE, VISTA, MoMoK])
def test_absent_image_warns_and_says_what_is_used(text_only, cls):
    with pytest.warns(MissingModalityWarning,
                      match=r"'image'.*no entity.x_image.*WITHOUT it.*"
                      r"structure only"):
        model = cls.from_data(text_only, hidden_channels=16,
                              modalities=('structure', 'image'))
    assert 'image' not in model.active_modalities


def test_nothing_left_raises(text_only):
    with pytest.raises(ValueError, match='holds none of them'):
        MoSE.from_data(text_only, hidden_channels=16, modalities=('image', ))


def test_present_modalities_do_not_warn(text_only):
    with warnings.catch_warnings():
        warnings.simplefilter('error', MissingModalityWarning)
        model = MoSE.from_data(text_only, hidden_channels=16,
                               modalities=('structure', 'text'))
    assert model.active_modalities == ('structure', 'text')
