r"""Fits MoSE-BI (boosting) and MoSE-MI (meta-learner) on the VALIDATION
triples of a MoSE run's validation-selected checkpoint and evaluates each on
val and test; one JSON row per ensemble is appended to ROWS. On FB15k-237 with
one CPU thread, BI takes about 25 s and MI several minutes.

    python benchmarks/methods/fb15k237_fit_ensembles.py RUN ROWS.jsonl
"""
import json, sys, time, torch
from pyg_mmkg.data import filter_index, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.train import load_run
torch.set_num_threads(1)
run = sys.argv[1]
model, data, config = load_run(run); model.eval(); fi = filter_index(data)
vh, vr, vt = triples(data, 'val')
for method, name in [('boosting', 'BI'), ('meta', 'MI')]:
    t0 = time.perf_counter()
    model.fit_ensemble(vh, vr, vt, method=method, filter_index=fi)
    fit = time.perf_counter() - t0
    row = dict(run=run.split('/')[-1], model='mose', modalities=config.modalities, dim=config.dim, variant=name, fit_s=round(fit, 1))
    for s in ('val', 'test'):
        h, r, t = triples(data, s)
        res = evaluate(model, h, r, t, filter_index=fi)['both']
        row[s] = {k: float(res[k]) for k in ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10')}
    print(json.dumps(row), flush=True)
    open(sys.argv[2], 'a').write(json.dumps(row) + '\n')
