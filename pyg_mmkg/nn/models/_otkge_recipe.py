r"""The published training recipes of :class:`OTKGE` (read from the official
Lion-ZS/OTKGE code at commit aa4caa1)."""
from pyg_mmkg.train.recipes import Recipe

OTKGE_SOURCE = ('Lion-ZS/OTKGE@aa4caa1 README.md (the two learn.py '
                'commands), code/models.py (OTKGE_wn, OTKGE_fb), '
                'code/optimizers.py (KBCOptimizer.epoch), code/regularizers.py '
                '(N3), code/datasets.py (get_train, get_weight)')

OTKGE_NOTES = (
    'One official epoch passes over train plus its reciprocal copies '
    '(Dataset.get_train), as one library 1vsAll epoch does, in batches of '
    'that doubled set: epochs and batch size unchanged. The N3 regulariser '
    '(weight times the cubed moduli of the fused head, relation and fused '
    'tail, divided by the batch size; learn.py builds [N3(reg), N3(reg)] '
    'and KBCOptimizer applies only the first) is part of '
    "OTKGE.training_loss, set by model_kwargs['n3_weight']; the trainer's "
    "regularizer stays 'none'. The README commands pass -weight: the "
    'cross-entropy is weighted per answer entity by 0.1 + 0.9 freq / '
    'max freq over the training triples (frequency_weight=True). The '
    'official script validates every 5 epochs but never selects: it tests '
    'the last epoch; here patience=None trains all epochs and the library '
    'keeps the best validation epoch (MRR). Rank 500 means 1000 real '
    'coordinates; each step then solves 2 x 10 Sinkhorn problems of '
    'size d_m x 1000 (GPU scale; on a CPU use a small dim and '
    "model_kwargs {'plan_every': n}).")


def _recipe(batch_size: float, epochs: int, n3: float, gamma: float,
            scale: float, source: str) -> Recipe:
    return Recipe(
        dict(regime='1vsall', loss='ce', label_smoothing=0.0,
             regularizer='none', regularizer_weight=0.0,
             optimizer='adagrad', lr=0.1, weight_decay=0.0,
             scheduler='none', grad_clip=None, batch_size=batch_size,
             epochs=epochs, eval_every=5, patience=None, metric='mrr',
             dim=500,
             model_kwargs=dict(alpha=0.1, gamma=gamma, ot_scale=scale,
                               ot_lambda=0.1, ot_entities=10,
                               n3_weight=n3, init_scale=1e-3,
                               frequency_weight=True, reciprocal=True)),
        source=source, regimes=('1vsall', ), notes=OTKGE_NOTES)


_WN = _recipe(2000, 200, 5e-3, 0.8, 100.0,
              f'{OTKGE_SOURCE}; WN9IMG command, OTKGE_wn')
_FB = _recipe(5000, 150, 1e-3, 0.7, 300.0,
              f'{OTKGE_SOURCE}; FBIMG command, OTKGE_fb')

#: The default is the WN9-IMG command (learn.py's default model is
#: OTKGE_wn); FB-IMG has its own batch size, epochs, N3 weight, gamma and
#: scale.
OTKGE_RECIPES = {None: _WN, 'WN9-IMG': _WN, 'FB-IMG': _FB}
