import argparse
import os

import pytest
import torch
from torch_geometric.data import HeteroData

import pyg_mmkg.datasets
from pyg_mmkg.features import load_encoder
from pyg_mmkg.features.cli import add_parser, run


def test_load_encoder_specs(tiny_bert, tiny_vit, tmp_path):
    enc = load_encoder(f'hf-mean:{tiny_bert}:penultimate', 'text',
                       device='cpu')
    assert enc.identity.startswith('hf-mean:') and enc.layer == -2
    enc = load_encoder(f'hf:{tiny_bert}', 'text', device='cpu')
    assert enc.pooling == 'mean' and enc.layer == -1
    enc = load_encoder(f'hf-cls:{tiny_bert}', 'text', device='cpu')
    assert enc.pooling == 'cls'
    enc = load_encoder(f'hf:{tiny_vit}', 'image', device='cpu')
    assert type(enc).__name__ == 'HFImageEncoder' and enc.pooling == 'cls'
    enc = load_encoder(f'hf-mean:{tiny_vit}', 'image', device='cpu')
    assert enc.pooling == 'mean' and enc.identity.startswith('hf-mean:')

    import timm
    ckpt = tmp_path / 'w.pth'
    torch.save(timm.create_model('test_vit').state_dict(), ckpt)
    enc = load_encoder(f'timm:test_vit:{ckpt}', 'image', device='cpu')
    assert enc.identity == 'timm:test_vit:w'

    with pytest.raises(ValueError, match='Unknown encoder kind'):
        load_encoder('foo:bar', 'text')
    with pytest.raises(ValueError, match='Encoder specifications'):
        load_encoder('bert', 'text')
    with pytest.raises(ValueError, match='images only'):
        load_encoder('timm:test_vit', 'text')


def test_load_open_clip_spec(tiny_open_clip):
    enc = load_encoder(f'open_clip:{tiny_open_clip}:random', 'image',
                       device='cpu')
    assert enc.identity == 'open_clip:pyg-mmkg-tiny-clip:random'
    assert 'image' in enc.modalities and 'text' in enc.modalities


def _parse(argv):
    parser = argparse.ArgumentParser(prog='pyg-mmkg')
    add_parser(parser.add_subparsers(dest='command'))
    return parser.parse_args(argv)


def test_cli_features(tmp_path, monkeypatch, tiny_bert, tiny_vit, make_image,
                      capsys):
    data = HeteroData()
    data['entity'].num_nodes = 4
    data['entity'].name = ['/m/01', '/m/02', 'n003', 'n004']
    data['entity'].text = ['the cat', None, 'a red car', 'dog']
    data['relation'].num_nodes = 2
    data['relation'].name = ['r0', 'r1']
    data['relation'].text = ['eat', 'fly']
    calls = []

    def get_dataset(name, root):
        calls.append((name, root))
        return [data]

    monkeypatch.setattr(pyg_mmkg.datasets, 'get_dataset', get_dataset,
                        raising=False)
    images = tmp_path / 'images'
    (images / 'm.01').mkdir(parents=True)
    make_image(images / 'm.01' / 'img_10.png', (9, 9, 9))
    make_image(images / 'm.01' / 'img_2.png', (200, 0, 0))
    make_image(images / 'n004_1.jpg', (0, 0, 200))

    args = _parse([
        'features', '--dataset', 'Toy', '--root', str(tmp_path / 'root'),
        '--text-encoder', f'hf-mean:{tiny_bert}', '--image-encoder',
        f'hf-cls:{tiny_vit}', '--images-dir', str(images), '--max-images',
        '2', '--cache-dir', str(tmp_path / 'cache'), '--device', 'cpu',
        '--no-progress'
    ])
    assert args.func is run
    assert run(args) == 0
    assert calls == [('Toy', str(tmp_path / 'root'))]
    printed = capsys.readouterr().out
    assert 'entity.x_image: (4, 2, 32)' in printed
    assert '2 with images' in printed and '3 with text' in printed
    (name, ) = os.listdir(tmp_path / 'root' / 'features')
    assert name.startswith('Toy--hf-mean_tiny-bert') and name.endswith('.pt')
    out = torch.load(tmp_path / 'root' / 'features' / name,
                     weights_only=True)
    assert out['entity']['image_mask'].tolist() == [[True, True],
                                                    [False, False],
                                                    [False, False],
                                                    [True, False]]
    assert out['entity']['has_text'].tolist() == [True, False, True, True]
    assert out['relation']['x_text'].shape == (2, 32)
    assert set(out['feature_encoders']) == {
        'entity.x_text', 'entity.x_image', 'relation.x_text'
    }
    assert len(os.listdir(tmp_path / 'cache')) == 3

    # Natural file order: img_2 before img_10 (slot 0 is the red image).
    from pyg_mmkg.features import find_images
    found = find_images(str(images), data['entity'].name)
    assert [os.path.basename(p) for p in found[0]] == ['img_2.png',
                                                       'img_10.png']
    assert found[1] == [] and found[2] == []
    assert [os.path.basename(p) for p in found[3]] == ['n004_1.jpg']

    bad = _parse(['features', '--dataset', 'Toy', '--root', 'x'])
    assert run(bad) == 2
    assert 'give --text-encoder' in capsys.readouterr().err


@pytest.mark.parametrize('flag', ['--images-dir', '--relation-images-dir'])
def test_cli_missing_images_dir_is_an_error(tmp_path, capsys, flag):
    from pyg_mmkg.cli import main
    missing = tmp_path / 'no-such-folder'
    assert main(['features', '--dataset', 'VTKG-I', '--root',
                 str(tmp_path / 'root'), '--image-encoder', 'timm:x',
                 flag, str(missing)]) == 2
    assert f"{flag} '{missing}' is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize('spec', ['open_clip:ViT-B-32', 'timm:resnet18'])
def test_specs_without_weights_are_refused(spec):
    # They used to encode with randomly initialised networks, silently.
    with pytest.raises(ValueError, match=f"'{spec}' names no weights.*"
                       f"'{spec}:random' if random features"):
        load_encoder(spec, 'image', device='cpu')


def test_random_weights_on_explicit_request():
    enc = load_encoder('timm:test_vit:random', 'image', device='cpu')
    assert enc.identity == 'timm:test_vit:random'
