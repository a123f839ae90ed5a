"""Prints the markdown table of one or more ``k_sweep.py`` JSON files."""
import json
import sys

print('| dataset | model | loss | k | pyg-mmkg ms/step | PyKEEN | PyG | pure '
      '| **mmkg / PyKEEN** | **mmkg / pure** | mmkg / PyG | load (1 min) |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|')
for path in sys.argv[1:]:
    for c in json.load(open(path))['cells']:
        if c['model'] == 'vlkge':
            continue
        m = c['ms_per_step']
        print(f"| {c['dataset']} | {c['model']} | {c['loss']} | {c['k']} "
              f"| {m['pyg-mmkg']:.0f} | {m['pykeen']:.0f} | {m['pyg']:.0f} "
              f"| {m['pure']:.0f} | **{c['mmkg_over_pykeen']:.2f}** "
              f"| **{c['mmkg_over_pure']:.2f}** | {c['mmkg_over_pyg']:.2f} "
              f"| {c['loadavg_1min'][0]:.1f}-{c['loadavg_1min'][1]:.1f} |")
print()
print('| dataset | model | k | score_sampled ms/step | explicit B(1+k) triples '
      '| ratio |')
print('|---|---|---|---|---|---|')
for path in sys.argv[1:]:
    for c in json.load(open(path))['cells']:
        if c['model'] != 'vlkge':
            continue
        m = c['ms_per_step']
        print(f"| {c['dataset']} | VL-KGE (DistMult, structure+text) "
              f"| {c['k']} | {m['pyg-mmkg']:.0f} | {m['pyg-mmkg-old']:.0f} "
              f"| {c['mmkg_over_pyg-mmkg-old']:.2f} |")
