r"""Runs the library's image path on every file of two Debian clipart packages.

Every PNG of ``openclipart-png`` and every PNG/SVG stamp of
``tuxpaint-stamps-default`` (extracted by
``datasets/VTKG-I/images/build_images.py download``) goes through
:func:`pyg_mmkg.features.encode_images` with the real ImageNet
EfficientNet-Lite0, one "item" per category folder (so items have from 1 to
hundreds of images), plus an item of deliberately broken files (truncated
PNGs, empty files, random bytes). It reports the PNG modes met (palette,
alpha, greyscale), tiny and huge images, the unreadable files (SVGs, which
the library does not rasterise, files over PIL's decompression-bomb limit,
which PIL refuses, and the broken ones) counted by
the pipeline, the throughput of the VISTA-centrality selection (encodes all
images) and of the 'first' selection (K per item), and the cache hit.

Run from the repository root::

    python benchmarks/features/image_path.py --debs /tmp/vtkg_debs
"""
import argparse
import collections
import json
import os
import os.path as osp
import random
import sys
import tempfile
import time
import warnings

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

DIRS = {'openclipart-png': 'usr/share/openclipart/png',
        'tuxpaint-stamps-default': 'usr/share/tuxpaint/stamps'}


def collect(debs, limit=None):
    r"""Groups (item name -> files) by category folder."""
    groups = collections.OrderedDict()
    for pkg, sub in DIRS.items():
        base = osp.join(debs, pkg, sub)
        for dp, _, fs in sorted(os.walk(base)):
            files = sorted(osp.join(dp, f) for f in fs
                           if f.lower().endswith(('.png', '.svg')))
            if files:
                groups[f'{pkg}:{osp.relpath(dp, base)}'] = files
    if limit:
        rng = random.Random(0)
        flat = [(g, f) for g, fs in groups.items() for f in fs]
        keep = set(rng.sample(range(len(flat)), min(limit, len(flat))))
        out = collections.OrderedDict()
        for i, (g, f) in enumerate(flat):
            if i in keep:
                out.setdefault(g, []).append(f)
        groups = out
    return groups


def broken_files(folder, sources):
    r"""Writes truncated, empty and random-byte PNGs; returns their paths."""
    rng = random.Random(0)
    out = []
    for i, src in enumerate(sources[:10]):
        data = open(src, 'rb').read()
        path = osp.join(folder, f'truncated_{i}.png')
        open(path, 'wb').write(data[:len(data) // 2])
        out.append(path)
    for i in range(5):
        path = osp.join(folder, f'empty_{i}.png')
        open(path, 'wb').close()
        out.append(path)
        path = osp.join(folder, f'random_{i}.png')
        open(path, 'wb').write(bytes(rng.getrandbits(8) for _ in range(999)))
        out.append(path)
    return out


def survey(files):
    from PIL import Image
    modes, tiny, huge, svg, sizes = collections.Counter(), 0, 0, 0, []
    for f in files:
        if f.lower().endswith('.svg'):
            svg += 1
            continue
        try:
            with Image.open(f) as img:
                mode = img.mode + ('+tRNS' if 'transparency' in img.info
                                   else '')
                modes[mode] += 1
                w, h = img.size
        except Exception:  # noqa: BLE001 - counted by the pipeline too.
            modes['unreadable header'] += 1
            continue
        sizes.append(w * h)
        tiny += min(w, h) < 32
        huge += max(w, h) > 4000
    sizes.sort()
    return {'modes': dict(modes.most_common()), 'tiny_lt32px': tiny,
            'huge_gt4000px': huge, 'svg': svg,
            'pixels_min': sizes[0] if sizes else 0,
            'pixels_median': sizes[len(sizes) // 2] if sizes else 0,
            'pixels_max': sizes[-1] if sizes else 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--debs', default='/tmp/vtkg_debs')
    parser.add_argument('--limit', type=int, default=None,
                        help='encode a random subset of this many files '
                             '(the survey always reads every file header)')
    parser.add_argument('--k', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', default=None, help='JSON summary file')
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    from pyg_mmkg.features import TimmImageEncoder, encode_images

    files = [f for fs in collect(args.debs).values() for f in fs]
    groups = collect(args.debs, args.limit)
    tmp = tempfile.mkdtemp(prefix='image_path_')
    pngs = [f for f in files if f.endswith('.png')]
    groups['broken'] = broken_files(tmp, pngs)
    items = list(groups.values())
    n_files = sum(len(fs) for fs in items)
    report = {'items': len(items), 'files_encoded': n_files,
              'survey_all_files': survey(files), 'k': args.k,
              'batch_size': args.batch_size, 'threads': args.threads,
              'num_workers': args.num_workers, 'device': args.device}
    print(json.dumps(report['survey_all_files'], indent=1), flush=True)

    from PIL import Image
    limit = 2 * Image.MAX_IMAGE_PIXELS  # PIL refuses larger images.
    bombs = set()
    for f in (f for fs in items for f in fs if f.endswith('.png')):
        try:
            with Image.open(f) as img:
                if img.size[0] * img.size[1] > limit:
                    bombs.add(f)
        except Exception:  # noqa: BLE001
            pass
    report['over_pil_pixel_limit'] = len(bombs)

    enc = TimmImageEncoder.from_efficientnet_lite0_package(
        device=args.device, precision='fp32' if args.device == 'cpu'
        else 'auto')
    cache = osp.join(tmp, 'cache')
    for selection in ('vista', 'first'):
        with warnings.catch_warnings(record=True):
            t, cpu = time.perf_counter(), time.process_time()
            out = encode_images(enc, items, max_images=args.k,
                                selection=selection,
                                batch_size=args.batch_size, cache_dir=cache,
                                num_workers=args.num_workers, progress=True,
                                desc=f'{selection} K={args.k}')
            wall = time.perf_counter() - t
            cpu = time.process_time() - cpu
            t = time.perf_counter()
            again = encode_images(enc, items, max_images=args.k,
                                  selection=selection, cache_dir=cache,
                                  progress=False)
            hit = time.perf_counter() - t
        assert torch.equal(again.x, out.x)
        attempted = n_files if selection == 'vista' else None
        if selection == 'first':  # K per item, plus retries after failures.
            attempted = int(out.mask.sum()) + out.num_skipped
        skipped = collections.Counter(
            'svg' if s.endswith('.svg') else
            'broken' if s.startswith(tmp) else
            'over PIL decompression-bomb limit' if s in bombs else 'other png'
            for s in out.skipped)
        report[selection] = {
            'wall_s': round(wall, 1), 'attempted': attempted,
            'images_per_s': round(attempted / wall, 1),
            'cpu_s': round(cpu, 1),
            'images_per_cpu_s': round(attempted / cpu, 1),
            'kept_slots': int(out.mask.sum()),
            'items_with_image': int(out.has_image.sum()),
            'skipped': out.num_skipped, 'skipped_by_kind': dict(skipped),
            'cache_hit_s': round(hit, 2)}
        report[f'_{selection}_x'] = out.x[:, 0]
        print(json.dumps(report[selection]), flush=True)
    # How often VISTA's most central image differs from the first one.
    a, b = report.pop('_vista_x'), report.pop('_first_x')
    both = (a.abs().sum(-1) > 0) & (b.abs().sum(-1) > 0)
    same = (a[both] - b[both]).abs().amax(-1) < 1e-5
    report['vista_top1_differs_from_first'] = int((~same).sum())
    report['items_compared'] = int(both.sum())
    print(json.dumps(report, indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
