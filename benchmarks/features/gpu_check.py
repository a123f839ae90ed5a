r"""CUDA check of the feature pipeline: fp16 autocast against fp32, and
throughput, for the packaged MiniLM (text) and EfficientNet-Lite0 (images).

Needs a CUDA device, the two packages (or copies of them on PYTHONPATH) and
WN18RR's ``entity2text.txt.gz`` (``--data-dir``). Example::

    python benchmarks/features/gpu_check.py --data-dir ../shared/data
"""
import argparse
import gzip
import os
import os.path as osp
import random
import sys
import tempfile
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from pyg_mmkg.features import (  # noqa: E402
    HFTextEncoder, TimmImageEncoder, encode_images, encode_texts, load_image,
    minilm_path)


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)


def timed(fn):
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return out, time.perf_counter() - start


def photos():
    import matplotlib
    import sklearn
    base = osp.join(osp.dirname(sklearn.__file__), 'datasets', 'images')
    return [osp.join(osp.dirname(matplotlib.__file__), 'mpl-data',
                     'sample_data', 'grace_hopper.jpg'),
            osp.join(base, 'china.jpg'), osp.join(base, 'flower.jpg')]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--out', default='gpu_check.md')
    parser.add_argument('--batch-size', type=int, default=256)
    args = parser.parse_args()
    lines = [f'# GPU check ({torch.cuda.get_device_name()}, torch '
             f'{torch.__version__})', '']

    def log(msg: str) -> None:
        print(msg, flush=True)
        lines.append(msg)

    with gzip.open(osp.join(args.data_dir, 'WN18RR', 'entity2text.txt.gz'),
                   'rt') as f:
        glosses = [l.rstrip('\n').split('\t', 1)[1] for l in f if l.strip()]

    # Text: fp16 autocast on CUDA against fp32 on CUDA and on the CPU.
    fp16 = HFTextEncoder(minilm_path(), device='cuda')
    fp32 = HFTextEncoder(minilm_path(), device='cuda', precision='fp32')
    cpu = HFTextEncoder(minilm_path(), device='cpu')
    sample = glosses[:2048]
    a = encode_texts(fp16, sample, args.batch_size, progress=False).x
    b = encode_texts(fp32, sample, args.batch_size, progress=False).x
    c = encode_texts(cpu, sample[:128], 64, progress=False).x
    log(f'- MiniLM fp16 vs fp32 (CUDA), 2048 glosses: cosine min '
        f'{cosine(a, b).min():.5f}, mean {cosine(a, b).mean():.6f}')
    log(f'- MiniLM CUDA fp32 vs CPU fp32, 128 glosses: max abs diff '
        f'{(b[:128] - c).abs().max():.2e}')
    for name, enc in (('fp16', fp16), ('fp32', fp32)):
        encode_texts(enc, glosses[:512], args.batch_size, progress=False)
        _, wall = timed(lambda: encode_texts(enc, glosses, args.batch_size,
                                             progress=False))
        log(f'- MiniLM {name} on CUDA, all {len(glosses):,} WN18RR glosses, '
            f'batch {args.batch_size}: {wall:.1f}s = '
            f'{len(glosses) / wall:,.0f} texts/s')

    # Images: EfficientNet-Lite0 fp16 vs fp32, classes, throughput.
    i16 = TimmImageEncoder.from_efficientnet_lite0_package(device='cuda')
    i32 = TimmImageEncoder.from_efficientnet_lite0_package(
        device='cuda', precision='fp32')
    paths = photos()
    x16 = encode_images(i16, paths, progress=False).x[:, 0]
    x32 = encode_images(i32, paths, progress=False).x[:, 0]
    log(f'- Lite0 fp16 vs fp32 (CUDA), 3 photos: cosine min '
        f'{cosine(x16, x32).min():.5f}')
    pixels = torch.stack([i16.preprocess(load_image(p)) for p in paths])
    top1 = i16.classify(pixels).argmax(dim=-1).tolist()
    log(f'- Lite0 fp16 top-1 ImageNet classes (hopper, china, flower): '
        f'{top1}')

    tmp = tempfile.mkdtemp()
    rng = random.Random(0)
    originals = [load_image(p) for p in paths]
    files = []
    for i in range(1000):
        img = originals[i % 3]
        w, h = img.size
        x0, y0 = rng.randrange(w // 3), rng.randrange(h // 3)
        crop = img.crop((x0, y0, x0 + 2 * w // 3, y0 + 2 * h // 3))
        files.append(osp.join(tmp, f'{i}.jpg'))
        crop.resize((500, 375)).save(files[-1], quality=90)
    entities = [files[5 * e:5 * e + 5] for e in range(200)]
    for workers in (0, 8):
        out, wall = timed(lambda: encode_images(
            i16, entities, max_images=5, selection='vista', batch_size=128,
            num_workers=workers, progress=False))
        log(f'- Lite0 fp16 on CUDA, 1,000 JPEGs (500x375, 200 entities x '
            f'5, VISTA selection), {workers} decode workers: {wall:.1f}s = '
            f'{1000 / wall:,.0f} images/s; mask all set: '
            f'{bool(out.mask.all())}')
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
