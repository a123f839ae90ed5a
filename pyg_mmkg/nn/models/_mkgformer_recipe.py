r"""The published training recipes of :class:`MKGformer` (read from
zjunlp/MKGformer at commit 6dc924d: ``MKG/scripts/*.sh``,
``MKG/lit_models/transformer.py``, ``MKG/lit_models/base.py``)."""
from pyg_mmkg.train.recipes import Recipe

SOURCE = ('zjunlp/MKGformer@6dc924d MKG/scripts/fb15k-237-image.sh, '
          'wn18-images.sh, pretrain_*.sh; MKG/lit_models/transformer.py '
          '(BCE, AdamW groups, linear warm-up), lit_models/base.py '
          '(weight decay 0.01)')

NOTES = (
    'Stage 2 (link prediction). The official run is preceded by stage 1 '
    '(MKGformer.stage1_recipe; pyg_mmkg.nn.models.mkgformer_train.fit_two_'
    'stages or examples/mkgformer.py runs both) and uses AdamW without '
    'decay on bias/LayerNorm and a linear warm-up over 10 % of the steps: '
    "the library's Trainer (CLI) has neither, the two-stage runner does. "
    'Official epochs pass over two examples per training triple (head and '
    'tail query, each with all its answers); a library KvsAll epoch passes '
    'over the unique queries of both directions: epoch counts kept. '
    'Selection: official checkpoints on validation Hits@10 with early '
    'stopping on MRR (patience 5): metric hits@10, patience 5. '
    'Official multi-label targets include dev/test answers (a leak): here '
    'training answers only. max_length 64 (FB) / 32 (WN).')

STAGE2 = dict(regime='kvsall', loss='bce', label_smoothing=0.0,
              optimizer='adamw', weight_decay=0.01, eval_every=1,
              patience=5, metric='hits@10', regularizer='none')

RECIPES = {
    None: Recipe(dict(STAGE2, lr=4e-5, batch_size=96, epochs=12,
                      model_kwargs=dict(max_length=64)),
                 source=SOURCE, notes=NOTES),
    'WN18': Recipe(dict(STAGE2, lr=5e-5, batch_size=128, epochs=31,
                        eval_every=3,
                        model_kwargs=dict(max_length=32)),
                   source=SOURCE, notes=NOTES + ' fp16 (official) not set.'),
}

#: Stage 1 (entity modeling), per dataset: lr, batch size, epochs, label
#: smoothing (everything but the new token rows frozen).
STAGE1 = {
    None: dict(lr=5e-4, batch_size=64, epochs=15, label_smoothing=0.1,
               weight_decay=0.01),
    'WN18': dict(lr=7e-5, batch_size=128, epochs=30, label_smoothing=0.1,
                 weight_decay=0.01),
}
