r"""Lists candidate images for every VTKG-I entity and relation (step 2 of
the image recipe, see ``README.md`` in this folder).

A candidate is a PNG of ``openclipart-png`` whose path (category folders
and file name) contains a search term as a whole word, or a stamp of
``tuxpaint-stamps-default`` whose file name or English description (first
line of its ``.txt``) does. The search terms are the synset's lemma words,
their plurals and a few hand-written synonyms (``SYNONYMS``). The output is
only a list to look at: the choice per entity, by sense, is made by hand in
``entity_images.tsv`` / ``relation_images.tsv``.

Run from the repository root::

    python datasets/VTKG-I/images/list_candidates.py /tmp/vtkg_debs > cands.tsv
"""
import os
import os.path as osp
import re
import sys

HERE = osp.dirname(osp.abspath(__file__))
RAW = osp.dirname(HERE)
OC = 'usr/share/openclipart/png'
TP = 'usr/share/tuxpaint/stamps'

SYNONYMS = {
    'airplane.n.01': ['aeroplane', 'plane', 'aircraft', 'jet', 'airliner'],
    'ashcan.n.01': ['trash', 'garbage', 'bin', 'dustbin', 'wastebasket'],
    'baggage.n.01': ['luggage', 'suitcase'], 'bag.n.06': ['suitcase'],
    'bag.n.04': ['handbag', 'purse'], 'bloomers.n.01': ['underwear'],
    'cellular_telephone.n.01': ['cellphone', 'mobile', 'phone'],
    'cell_phone': ['cellphone', 'mobile', 'phone'],
    'doughnut.n.02': ['donut'], 'fireplug.n.01': ['hydrant'],
    'faucet.n.01': ['tap'], 'hand_blower.n.01': ['hairdryer', 'dryer'],
    'hotdog.n.02': ['hot dog', 'sausage'], 'jean.n.01': ['jeans'],
    'necktie.n.01': ['tie'], 'person.n.01': ['man', 'woman', 'people'],
    'spectacles.n.01': ['glasses', 'eyeglasses'],
    'sports_ball': ['ball', 'football', 'soccer', 'basketball'],
    'teddy.n.01': ['teddy bear'], 'television.n.01': ['tv'],
    'trouser.n.01': ['trousers', 'pants'], 'short_pants.n.01': ['shorts'],
    'refrigerator.n.01': ['fridge'], 'sofa.n.01': ['couch'],
    'potted_plant': ['flowerpot', 'plant pot'], 'pot.n.04': ['flowerpot'],
    'van.n.05': ['van'], 'ashcan': ['trash'], 'stove.n.01': ['cooker'],
    'remote_control.n.01': ['remote'], 'traffic_light.n.01': ['traffic'],
    'mouse.n.04': ['mouse'], 'monitor.n.04': ['screen', 'display'],
    'bush.n.02': ['wilderness', 'outback'], 'shrub.n.01': ['bush'],
    'person.n.02': ['body'], 'cow.n.01': ['cattle'],
    'helmet.n.02': ['hardhat'], 'road.n.01': ['highway'],
    'sport.n.01': ['sports'], 'cone.n.01': ['traffic cone'],
}


def terms(name):
    lemma = name.split('.')[0]
    words = [lemma.replace('_', ' ')]
    out = set()
    for w in words + SYNONYMS.get(name, []):
        out |= {w, w + 's', w + 'es'}
    return sorted(out)


def words_of(text):
    return ' ' + ' '.join(re.findall(r'[a-z]+', text.lower())) + ' '


def index(debs):
    items = []
    root = osp.join(debs, 'openclipart-png', OC)
    for dp, _, fs in os.walk(root):
        for f in fs:
            if f.endswith('.png'):
                rel = osp.relpath(osp.join(dp, f), root)
                items.append(('openclipart-png', osp.join(OC, rel),
                              words_of(rel.replace('/', ' ')), ''))
    root = osp.join(debs, 'tuxpaint-stamps-default', TP)
    for dp, _, fs in os.walk(root):
        for f in fs:
            stem, ext = osp.splitext(f)
            if ext not in ('.png', '.svg'):
                continue
            desc = ''
            txt = osp.join(dp, stem + '.txt')
            if osp.exists(txt):
                with open(txt, encoding='utf-8', errors='replace') as fh:
                    desc = fh.readline().strip()
            rel = osp.relpath(osp.join(dp, f), root)
            items.append(('tuxpaint-stamps-default', osp.join(TP, rel),
                          words_of(rel.replace('/', ' ') + ' ' + desc), desc))
    return items


def main(debs):
    items = index(debs)
    for kind in ('entity', 'relation'):
        with open(osp.join(RAW, f'{kind}2text.txt'), encoding='utf-8') as f:
            names = [l.split('\t')[0] for l in f if l.strip()]
        for name in names:
            ts = [' ' + t + ' ' for t in terms(name)]
            hits = [it for it in items if any(t in it[2] for t in ts)]
            print(f'## {kind}\t{name}\t{len(hits)}')
            for pkg, path, _, desc in hits:
                print(f'{pkg}\t{path}\t{desc}')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '/tmp/vtkg_debs')
