import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = os.environ.get('PYG_MMKG_SHARED',
                        osp.join(osp.dirname(REPO), 'shared'))
SHARED_DATA = osp.join(SHARED, 'data')


@pytest.fixture
def shared_data():
    r"""The real benchmark files staged in ``../shared/data``."""
    if not osp.isdir(SHARED_DATA):
        pytest.skip(f'real data not available: {SHARED_DATA} is missing '
                    f'(CI runs with ../shared beside the repository)')
    return SHARED_DATA
