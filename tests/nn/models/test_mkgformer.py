r"""MKGformer against an independent transcription of the official
``MKG/models/modeling_unimo.py`` equations (zjunlp/MKGformer), on tiny
random towers (2 layers, width 32)."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('transformers')

from pyg_mmkg.data import triples
from pyg_mmkg.nn.models import MKGformer, fit_mkgformer
from pyg_mmkg.nn.models import _mkgformer_layers as L
from pyg_mmkg.nn.models import _mkgformer_prompts as P
from pyg_mmkg.nn.models._mkgformer_train import linear_warmup, param_groups

VISION = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
              intermediate_size=64, image_size=16, patch_size=8)
N = 24


def images(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(N, 1, 3, 16, 16, generator=gen),
            torch.randn(N, 2, 3, 8, 8, generator=gen)]


def build(data, vision=True, seed=0, **kwargs):
    torch.manual_seed(seed)
    kwargs.setdefault('dropout', 0.0)
    return MKGformer.from_data(
        data, vision=VISION if vision else None,
        images=images() if vision else None, fusion_layers=1,
        hidden_channels=32, num_layers=2, **kwargs).eval()


# Independent transcription of the official layers (raw weights) ###########

def lin(x, m):
    return x @ m.weight.t() + m.bias


def ln(x, m, eps):
    return F.layer_norm(x, (x.size(-1), ), m.weight, m.bias, eps)


def split(x, h):
    B, T, D = x.shape
    return x.view(B, T, h, D // h).permute(0, 2, 1, 3)


def official_text_layer(layer, x, mask, eps, vis=None, fusion=None):
    # BertSelfAttention / BertFusion / BertIntermediate / BertOutput.
    sa, h = layer.attention.self, 2
    q, k, v = (split(lin(x, m), h) for m in (sa.query, sa.key, sa.value))
    s = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))
    s = s + (1.0 - mask[:, None, None, :].float()) * -10000.0
    ctx = (s.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(x.shape)
    out = ln(lin(ctx, layer.attention.output.dense) + x,
             layer.attention.output.LayerNorm, eps)
    inter = lin(out, layer.intermediate.dense)
    if vis is not None:  # fusion_scores = ctx @ vis^T: no scaling, no mask
        fused = torch.matmul(torch.softmax(ctx @ vis.transpose(-1, -2), -1),
                             vis)
        inter = inter + lin(fused, fusion)
    inter = F.gelu(inter)
    return ln(lin(inter, layer.output.dense) + out, layer.output.LayerNorm,
              eps), (k, v)


def official_vision_layer(layer, x, pkv=None):
    # CLIPEncoderLayer / CLIPAttention with past_key_values = text (k, v).
    at, h = layer.self_attn, 2
    y = ln(x, layer.layer_norm1, 1e-5)
    q = split(lin(y, at.q_proj) * (x.size(-1) // h) ** -0.5, h)
    k, v = split(lin(y, at.k_proj), h), split(lin(y, at.v_proj), h)
    if pkv is not None:
        k, v = torch.cat([pkv[0], k], 2), torch.cat([pkv[1], v], 2)
    o = (torch.softmax(q @ k.transpose(-1, -2), -1) @ v)
    x = x + lin(o.permute(0, 2, 1, 3).reshape(x.shape), at.out_proj)
    y = ln(x, layer.layer_norm2, 1e-5)
    y = lin(y, layer.mlp.fc1)
    y = y * torch.sigmoid(1.702 * y)  # quick_gelu
    return x + lin(y, layer.mlp.fc2)


def official_encoder(model, text, mask, vis):
    # UnimoEncoder with 2 layers, the last one fused (idx >= L - F).
    tl = model.mlm.bert.encoder.layer
    vl = L.vision_layers(model.vision)
    eps = model.mlm.config.layer_norm_eps
    vis = official_vision_layer(vl[0], vis)
    text, kv0 = official_text_layer(tl[0], text, mask, eps)
    vis = official_vision_layer(vl[1], vis, kv0)
    text, _ = official_text_layer(tl[1], text, mask, eps, vis,
                                  model.fusion_dense[0])
    return text


def official_patches(model, groups):
    conv = model.vision.embeddings.patch_embedding.weight
    toks = [F.conv2d(g.flatten(0, 1), conv, stride=8).flatten(2)
            .transpose(1, 2).reshape(g.size(0), -1, conv.size(0))
            for g in groups]
    return ln(torch.cat(toks, 1), model.vision.pre_layrnorm, 1e-5)


def prompts(model, known, rel, head_query):
    return P.link_prompts(known, rel, head_query,
                          (model.desc_ids, model.desc_valid),
                          (model.rel_text_ids, model.rel_text_valid),
                          model.special, model.vocab, model.num_nodes)


# Tests ######################################################################

def test_pgi_and_caf_match_the_official_equations(mm_data):
    data = copy.copy(mm_data)  # descriptions of different lengths
    data['entity'].text = [f'entity {i} ' + 'is a thing ' * (i % 4)
                           for i in range(N)]
    model = build(data)
    h, r, _ = triples(mm_data, 'test')
    ids, attn, types = prompts(model, h, r, torch.zeros_like(h).bool())
    assert bool((attn == 0).any())  # padding present (masked in text)
    text = model.mlm.bert.embeddings(input_ids=ids, token_type_ids=types)
    groups = [g[h] for g in images()]
    vis = L.vision_tokens(model.vision, groups)
    assert torch.allclose(vis, official_patches(model, groups), atol=1e-5)
    ext = (1.0 - attn[:, None, None, :].float()) * -10000.0
    with torch.no_grad():
        ours = L.hybrid_encode(model.mlm.bert.encoder.layer, text, ext,
                               L.vision_layers(model.vision), vis,
                               model.fusion_dense)
        ref = official_encoder(model, text, attn, vis)
    assert torch.allclose(ours, ref, atol=1e-5)
    # The fusion matters (W_f and the vision states enter the text):
    with torch.no_grad():
        plain = L.hybrid_encode(model.mlm.bert.encoder.layer, text, ext)
    assert not torch.allclose(plain, ref, atol=1e-3)


def test_entity_token_logits_are_the_triple_scores(mm_data):
    model = build(mm_data, vision=False)
    h, r, t = triples(mm_data, 'test')
    R, B = model.num_relations, h.numel()
    tails, heads = model.score_tails(h, r), model.score_heads(r, t)
    # Text only: the full MLM logits of the checkpoint's BertForMaskedLM
    # (all V + N + R tokens) restricted to the entity slice:
    for known, query, scores in ((h, False, tails), (t, True, heads)):
        ids, attn, types = prompts(model, known, r,
                                   torch.full_like(h, query).bool())
        with torch.no_grad():
            full = model.mlm(input_ids=ids, attention_mask=attn,
                             token_type_ids=types).logits
        pos = (ids == model.special['mask']).nonzero()[:, 1]
        assert pos.numel() == B
        full = full[torch.arange(B), pos]
        assert full.size(1) == model.vocab + N + R
        assert torch.allclose(scores, full[:, model.vocab:model.vocab + N],
                              atol=1e-5)
    arange = torch.arange(B)
    assert torch.allclose(model(h, r, t), tails[arange, t])
    assert torch.allclose(model(t, r + R, h), heads[arange, h])


def test_prompts_follow_the_official_templates(mm_data):
    model = build(mm_data, vision=False)
    tok = model.tokenizer
    h, r = torch.tensor([3, 5]), torch.tensor([0, 2])
    ids, attn, types = prompts(model, h, r, torch.tensor([True, False]))
    assert tok.decode(ids[0][attn[0].bool()]) == \
        '[CLS] [MASK] [SEP] r0 [RELATION_0] [SEP] [ENTITY_3] e3 [SEP]'
    assert tok.decode(ids[1][attn[1].bool()]) == \
        '[CLS] [ENTITY_5] [SEP] r2 [RELATION_2] [SEP] [MASK] e5 [SEP]'
    # Sentence pair: type 1 after the second [SEP].
    sep = (ids[0] == tok.sep_token_id).nonzero().view(-1)[1]
    assert types[0, attn[0].bool()].tolist() == \
        [0] * int(sep + 1) + [1] * int(attn[0].sum() - sep - 1)
    assert tok.convert_tokens_to_ids('[ENTITY_3]') == model.vocab + 3
    assert tok.convert_tokens_to_ids('[RELATION_2]') == model.vocab + N + 2
    ids, attn, _ = P.entity_prompts(torch.tensor([7]),
                                    (model.desc_ids, model.desc_valid),
                                    model.special)
    assert tok.decode(ids[0]) == '[CLS] [MASK] [SEP] e7 [SEP]'


def test_only_the_known_entitys_images_enter_a_query(mm_data):
    model = build(mm_data)
    h, r, t = triples(mm_data, 'test')
    R = model.num_relations
    before = (model(h, r, t), model(t, r + R, h))
    # New images for entity e: only queries whose *known* entity is e move.
    e = next(int(x) for x in t.unique()
             if (h == x).any() and ((t == x) & (h != x)).any())
    for i in range(model.num_image_groups):
        x = getattr(model, f'images_{i}')
        x[e] = torch.randn_like(x[e])
    after = (model(h, r, t), model(t, r + R, h))
    for known, b, a in ((h, before[0], after[0]), (t, before[1], after[1])):
        same = known != e
        assert torch.equal(a[same], b[same])  # e's images unseen there
        assert not torch.equal(a[~same], b[~same])  # and seen here
    assert bool(((t == e) & (h != e)).any())  # an answer's images changed


def test_stage1_trains_only_the_new_token_rows(mm_data):
    model = build(mm_data).train()
    model.set_stage(1)
    model.entity_modeling_loss(torch.arange(10)).backward()
    emb = model.word_embeddings.weight
    for name, p in model.named_parameters():
        if p is not emb:
            assert p.grad is None and not p.requires_grad, name
    assert emb.grad[:model.vocab].abs().sum() == 0
    assert (emb.grad[model.vocab:model.vocab + 10].abs().sum(1) > 0).all()
    model.set_stage(2)
    assert all(p.requires_grad for n, p in model.named_parameters()
               if 'class_embedding' not in n and 'position_embedding' not
               in n and 'post_layernorm' not in n)


def test_stage1_loss_is_the_official_label_smoothed_ce(mm_data):
    model = build(mm_data, vision=False)
    e = torch.arange(6)
    ids, attn, types = P.entity_prompts(e, (model.desc_ids,
                                            model.desc_valid), model.special)
    logits = model._mask_logits(ids, attn, types, e)
    target = torch.full_like(logits, 0.1 / N)  # LabelSmoothSoftmaxCEV1
    target[torch.arange(6), e] = 0.9
    ref = -(logits.log_softmax(1) * target).sum(1).sum() / 6
    assert torch.allclose(model.entity_modeling_loss(e, 0.1), ref)


def test_state_dict_round_trip(mm_data):
    a, b = build(mm_data, seed=0), build(mm_data, seed=1)
    h, r, t = triples(mm_data, 'test')
    assert not torch.equal(a.score_tails(h, r), b.score_tails(h, r))
    assert any('fusion_dense' in k for k in a.state_dict())
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.score_tails(h, r), b.score_tails(h, r))
    assert torch.equal(a.score_heads(r, t), b.score_heads(r, t))


def test_vision_cache_gives_the_same_scores(mm_data):
    a, b = build(mm_data), build(mm_data, cache_vision=True)
    h, r, _ = triples(mm_data, 'test')
    assert torch.allclose(a.score_tails(h, r), b.score_tails(h, r),
                          atol=1e-5)
    frozen = [n for n, p in b.named_parameters() if not p.requires_grad]
    assert any('layers.0.' in n for n in frozen)
    assert not any('layers.1.' in n for n in frozen)


def test_two_stage_runner(mm_data):
    model = build(mm_data, vision=False)
    emb = model.word_embeddings.weight
    old = emb.detach().clone()
    seen = {}

    def log(line):  # called after each epoch
        if line.startswith('stage 1'):
            seen['stage1'] = emb.detach().clone()
    out = fit_mkgformer(model, mm_data,
                        stage1=dict(epochs=1, batch_size=12),
                        stage2=dict(epochs=1, batch_size=16, lr=1e-3),
                        log=log)
    assert len(out['stage1']) == 1 and len(out['val']) == 1
    assert 0 < out['test']['mrr'] <= 1
    # Stage 1 moved only the new token rows (AdamW's decay included):
    V = model.vocab
    assert torch.equal(seen['stage1'][:V], old[:V])
    assert not torch.equal(seen['stage1'][V:], old[V:])
    assert all(p.requires_grad for p in model.mlm.parameters())
    groups = param_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all('bias' in names[id(p)] or 'LayerNorm' in names[id(p)]
               for p in groups[1]['params'])
    assert groups[1]['weight_decay'] == 0.0 and groups[0]['params']


def test_linear_warmup():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = linear_warmup(opt, 100, 0.1)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    assert lrs[0] == 0.0 and lrs[5] == pytest.approx(0.5)
    assert lrs[10] == pytest.approx(1.0) and lrs[55] == pytest.approx(0.5)


def test_rejects_mismatched_towers(mm_data):
    with pytest.raises(ValueError, match='width'):
        MKGformer.from_data(mm_data, vision=dict(VISION, hidden_size=16),
                            images=images(), hidden_channels=32)
    with pytest.raises(ValueError, match='fusion_layers'):
        MKGformer.from_data(mm_data, vision=VISION, images=images(),
                            fusion_layers=2, hidden_channels=32)
    with pytest.raises(ValueError, match='local'):
        MKGformer.from_data(mm_data, text_encoder='bert-base-uncased')
