import subprocess
import sys

OPTIONAL = ('transformers', 'open_clip', 'rdflib', 'torchvision', 'timm',
            'matplotlib', 'tensorboard')


def test_core_import_is_light():
    r"""`import pyg_mmkg` and the dataset classes pull in no optional
    dependency beyond what `import torch_geometric` itself loads (PyG 2.8
    imports transformers through `torch_geometric.llm` when it is
    installed; that is PyG's doing, not ours)."""
    code = (
        'import sys\n'
        f'OPT = {OPTIONAL!r}\n'
        'import torch_geometric\n'
        'base = {m for m in OPT if m in sys.modules}\n'
        'import pyg_mmkg, pyg_mmkg.data, pyg_mmkg.nn, pyg_mmkg.evaluation\n'
        'import pyg_mmkg.features, pyg_mmkg.train, pyg_mmkg.loader\n'
        'from pyg_mmkg.datasets import VTKG_C, VTKG_I, WN9_IMG, MKG_W, DB15K\n'
        'print(",".join(sorted(m for m in OPT if m in sys.modules '
        'and m not in base)))\n')
    out = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ''
