r"""Prints the markdown rows of the VISTA / MoMoK results from the JSON
files written by ``vista_vtkgi.py`` and ``momok_bench.py``.

    python benchmarks/methods/vista_momok_table.py
"""
import json
import os.path as osp

HERE = osp.dirname(osp.abspath(__file__))
FILES = [
    ('VISTA', 'VTKG-I', 'vista_vtkgi_results.json'),
    ('MoMoK', 'VTKG-I', 'momok_vtkgi_results.json'),
    ('MoMoK', 'MKG-W', 'momok_mkgw_results.json'),
    ('MoMoK', 'MKG-Y', 'momok_mkgy_results.json'),
    ('MoMoK', 'DB15K', 'momok_db15k_results.json'),
]


def row(model, dataset, setting, res, epochs):
    m = res
    return (f"| {model} | {dataset} | {setting} | {m['mrr']:.4f} | "
            f"{m['hits@1']:.4f} | {m['hits@3']:.4f} | {m['hits@10']:.4f} | "
            f"{m['mr']:.1f} | {epochs} |")


def main():
    print('| model | dataset | modalities | MRR | H@1 | H@3 | H@10 | MR | '
          'best epoch / trained | s/epoch |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for model, dataset, name in FILES:
        path = osp.join(HERE, name)
        if not osp.exists(path):
            continue
        with open(path) as f:
            results = json.load(f)
        for setting, res in results.items():
            if setting == 'args':
                continue
            ep = f"{res['best_epoch']} / {res['epochs_trained']}"
            line = row(model, dataset, setting, res['test'], ep)
            print(f"{line} {res['epoch_s_mean']:.1f} |")
            if 'test_text_shuffle' in res:
                line = row(model, dataset, setting + ', text shuffled',
                           res['test_text_shuffle'], ep)
                print(f'{line} |')


if __name__ == '__main__':
    main()
