r"""The published training recipe of :class:`RSME` (read from the official
wangmengsd/RSME code at commit d46e6d5)."""
from pyg_mmkg.train.recipes import Recipe

RSME_SOURCE = ('wangmengsd/RSME@d46e6d5 learn.py (argparse defaults), '
               'config.py (alpha, beta, constant, forget_gate, '
               'remember_rate), optimizers.py (KBCOptimizer.epoch), '
               'regularizers.py (N3), datasets.py (get_train, eval)')

RSME_NOTES = (
    'learn.py defaults: ComplEx rank 1000, batch 1000, Adagrad lr 0.1, N3 '
    'with --reg 0 (weight 0: no penalty unless set), init 1e-3, 50 epochs, '
    'validation every 3 epochs; config.py: alpha 0.7 (constant), beta 0.5, '
    'forget gate on, remember_rate 100. One official epoch passes over '
    'train plus its reciprocal copies (Dataset.get_train), as one library '
    '1vsAll epoch does: 50 epochs unchanged. The N3 term is part of '
    "RSME.training_loss (model_kwargs['n3_weight']); the trainer's own "
    "regularizer stays 'none'. The official loop never stops early and "
    'reports the test metrics of the last epoch; patience=None trains all '
    '50 epochs, and the library keeps the best validation epoch (MRR). '
    'Rank 1000 is slow on a CPU beyond small graphs (every step projects '
    'all N images, N x D x 2000 multiply-adds).')

RSME_RECIPES = {
    None: Recipe(
        dict(regime='1vsall', loss='ce', label_smoothing=0.0,
             regularizer='none', regularizer_weight=0.0,
             optimizer='adagrad', lr=0.1, weight_decay=0.0,
             scheduler='none', grad_clip=None, batch_size=1000, epochs=50,
             eval_every=3, patience=None, dim=1000,
             model_kwargs=dict(n3_weight=0.0, init_scale=1e-3, alpha=0.7,
                               alpha_mode='constant', beta=0.5,
                               reciprocal=True)),
        source=RSME_SOURCE, regimes=('1vsall', ), notes=RSME_NOTES),
}
