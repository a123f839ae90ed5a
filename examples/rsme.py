r"""RSME (ComplEx-N3 on image-mixed entities, gated image-similarity term at
inference) on the bundled VTKG-I with its real clipart images, trained with
the published recipe (1vsAll softmax CE, Adagrad 0.1, batch 1000, rank 1000,
50 epochs, alpha 0.7, beta 0.5, forget gate from training triples only).

One image per entity is kept by RSME's filter gate: the image with the
largest summed pHash similarity to the entity's other images
(:meth:`RSME.from_data` runs :func:`pyg_mmkg.features.phash_slots` on the
bundled thumbnails that ``data['entity'].image_files`` lists); its
EfficientNet-Lite0 feature is the one stored in the bundled
``image_features.pt``. Then the model is evaluated with the images shuffled
among the entities that have one.

    python examples/rsme.py --num-threads 1    # about 2 minutes on 1 CPU
"""
import argparse

import torch

from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.datasets import VTKG_I
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import RSME
from pyg_mmkg.nn.models.rsme import phash_image_slot
from pyg_mmkg.train import Trainer


parser = argparse.ArgumentParser()
parser.add_argument('--root', default='/tmp/pyg_mmkg/VTKG-I')
parser.add_argument('--modalities', default='structure,image')
parser.add_argument('--epochs', type=int, default=None,
                    help='default: the recipe (50)')
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--num-threads', type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.num_threads)

data = VTKG_I(args.root)[0]
moved = int((phash_image_slot(data) != 0).sum())
print(f'filter gate: {int(data["entity"].has_image.sum())} entities with an '
      f'image; the pHash pick is not the first listed image for {moved}')
torch.manual_seed(args.seed)
model = RSME.from_data(data, modalities=args.modalities.split(','))
print(f'forget gate open for {int(model.gate[:model.num_relations].sum())} '
      f'of {model.num_relations} relations (MRP from training triples)')
options = {} if args.epochs is None else dict(epochs=args.epochs)
trainer = Trainer(model, data, progress=False, plot=False, seed=args.seed,
                  **options)  # every other option: the published recipe
print(trainer.recipe.describe())
result = trainer.fit()
print(f"{model}\n  test MRR {result['test']['mrr']:.4f}")

h, r, t = triples(data, 'test')
fi = filter_index(data)
model.eval()
if 'image' in model.feature_modalities:
    with torch.no_grad(), model.ablate('image', 'shuffle'):
        res = evaluate(model, h, r, t, filter_index=fi)['both']
    print(f"  images shuffled: test MRR {float(res['mrr']):.4f}")
