"""Dataset cards point only to places a user can reach (issue 16): no
folder of the machine they were written on (``../shared``, ``/work/...``,
``/tmp/...``). The VTKG-C and FB15K-237-IMG cards pointed to ../shared."""
import pathlib
import re

CARDS = pathlib.Path(__file__).resolve().parents[2] / 'datasets' / 'cards'


def test_cards_name_no_local_folders():
    cards = sorted(CARDS.glob('*.md'))
    assert len(cards) >= 11
    bad = [f'{c.name}: {m.group(0)}' for c in cards
           for m in re.finditer(r'(\.\./shared|/work/|/tmp/|/home/)\S*',
                                c.read_text())]
    assert not bad, bad
