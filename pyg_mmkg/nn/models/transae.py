import math
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, ModuleDict, Sequential, Sigmoid

from pyg_mmkg.nn.kge.scorer import Scorer
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     check_positive, features_from_data)
from pyg_mmkg.nn.models.ikrl import energy, energy_all
from pyg_mmkg.train.config import SLCWA_LOSS_FIELDS
from pyg_mmkg.train.recipes import Recipe

Encoded = Tuple[Tensor, Tensor]
_SOURCE = 'ksolaiman/TransAE@ff28b04'


class _NoScorer(Scorer):
    # TransAE scores with its own L1 distance (see TransAE.forward).
    pass


def _layer(in_dim: int, out_dim: int) -> Sequential:
    return Sequential(Linear(in_dim, out_dim), Sigmoid())


class TransAE(MultimodalKGEModel):
    r"""The TransAE model from the "Multimodal Data Enhanced Representation
    Learning for Knowledge Graphs" paper (Wang et al., IJCNN 2019), as in
    the reference re-implementation
    :obj:`ksolaiman/TransAE` (no official code was released).

    A multimodal autoencoder's bottleneck *is* the entity embedding; there
    is no free entity table. Each modality :math:`m` (text, image) has an
    encoder layer, a joint layer combines them, and mirrored decoders
    reconstruct the inputs (sigmoid after every layer):

    .. math::
        \mathbf{v}_m = \sigma(\mathbf{W}_m \mathbf{x}_m + \mathbf{b}_m),
        \quad \mathbf{e} = \sigma(\mathbf{W}_j [\mathbf{v}_{txt};
        \mathbf{v}_{img}] + \mathbf{b}_j), \quad
        \hat{\mathbf{x}}_m = \sigma(\mathbf{W}'_m \sigma(\mathbf{W}''_m
        \mathbf{e} + \mathbf{b}''_m) + \mathbf{b}'_m)

    Relations are free vectors and triples are scored by TransE on the
    codes, :math:`-\|\mathbf{e}_h + \mathbf{r} - \mathbf{e}_t\|_1`. The loss
    (:meth:`training_loss`) is
    :math:`\beta \cdot \mathrm{mean}\max(0, \gamma + d^+ - d^-)` plus the
    reconstruction MSE (mean per modality) of the heads and tails of the
    positives and of the negatives. :meth:`after_step` L2-normalises the
    rows of :math:`\mathbf{W}_j`, which the reference does at every forward
    pass. Entities unseen in training are embedded from their features
    (inductive by construction).

    Entities without a modality get zeros as its input and are left out of
    its reconstruction loss.

    .. note::
        Deviations from the reference (:obj:`ksolaiman/TransAE@ff28b04`):

        * Missing features are zeros and not reconstructed (the reference
          draws a uniform random image vector for entities without images
          and reconstructs it).
        * :math:`\mathbf{W}_j` is normalised after every optimiser step (the
          reference normalises it in place at the start of every training
          forward, so its final update is never normalised before testing).
        * Features are whatever the data holds (the reference uses PV-DM
          100-d text and mean VGG-16 fc7 4096-d image vectors); layer sizes
          follow the reference (:obj:`text_hidden=50`,
          :obj:`image_hidden=512`).
        * The zjukg/NATIVE :obj:`TransAE.py` scores with a plain entity
          table and never uses the autoencoder; that design is not followed.

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The code (entity) size :math:`d`.
            (default: :obj:`50`)
        modalities (Sequence[str], optional): :obj:`"text"` and/or
            :obj:`"image"` (:obj:`"structure"` is ignored: TransAE has no
            structural table). (default: :obj:`("text", "image")`)
        features (Dict[str, Tuple[Tensor, Tensor]], optional): Per modality
            the features :obj:`[N, D]` and mask :obj:`[N]`.
        text_hidden (int, optional): Text encoder size. (default: :obj:`50`)
        image_hidden (int, optional): Image encoder size.
            (default: :obj:`512`)
        margin (float, optional): :math:`\gamma`. (default: :obj:`1.0`)
        beta (float, optional): :math:`\beta`. (default: :obj:`0.4`)
        p_norm (int, optional): The distance norm, :obj:`1` or :obj:`2`.
            (default: :obj:`1`)
    """
    #: Config fields its training_loss ignores, per regime (it defines
    #: its own objective there): the trainer warns when they are set.
    ignores_config = {'slcwa': SLCWA_LOSS_FIELDS}
    recipes = {
        None: Recipe(
            dict(regime='slcwa', num_negatives=1, sampler='uniform',
                 filtered_negatives=False, loss='margin', margin=1.0,
                 optimizer='rmsprop', lr=0.01, weight_decay=0.0,
                 scheduler='none', grad_clip=None, batch_size=128,
                 epochs=2000, eval_every=10, metric='hits@10',
                 patience=None, dim=50,
                 model_kwargs={'margin': 1.0, 'beta': 0.4, 'p_norm': 1}),
            source=f'{_SOURCE} TransE-PyTorch-master/main.py, model.py',
            notes='main.py flags: lr 0.01 (RMSprop), batch_size 128, '
            'vector_length 50, margin 1.0, norm 1, epochs 2000, beta 0.4 '
            '(the TransE class default is 0.5), validation every 10 epochs '
            'by Hits@10 (raw in the reference, filtered here), keeping the '
            'best validation checkpoint without early stopping; one '
            'unfiltered corrupted head or tail per positive. No official '
            'code exists: this is the reference re-implementation.'),
    }
    encodes_batch_only = True  # training encodes the batch's entities only

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 50,
        modalities: Sequence[str] = ('text', 'image'),
        features: Optional[Features] = None,
        text_hidden: int = 50,
        image_hidden: int = 512,
        margin: float = 1.0,
        beta: float = 0.4,
        p_norm: int = 1,
    ):
        check_positive('hidden_channels', hidden_channels)
        super().__init__(num_nodes, num_relations, hidden_channels,
                         _NoScorer(), False, False)
        if p_norm not in (1, 2):
            raise ValueError(f"'p_norm' must be 1 or 2 (got {p_norm})")
        mods = [m for m in (modalities if not isinstance(modalities, str)
                            else [modalities]) if m != 'structure']
        self._init_multimodal(mods or ['text'], features, None)
        self.modalities = tuple(m for m in self.modalities
                                if m in self.feature_modalities)
        if len(self.feature_modalities) == 0:
            raise ValueError('TransAE needs text and/or image features (it '
                             'has no structural entity table)')
        self.node_emb = None  # No free entity table.
        self.margin, self.beta, self.p_norm = margin, beta, p_norm
        sizes = {'text': text_hidden, 'image': image_hidden}
        self.encoders, self.decoders = ModuleDict(), ModuleDict()
        for m in self.feature_modalities:
            in_dim = self.feature_dim(m)
            self.encoders[m] = _layer(in_dim, sizes[m])
            self.decoders[m] = Sequential(_layer(hidden_channels, sizes[m]),
                                          _layer(sizes[m], in_dim))
        joint = sum(sizes[m] for m in self.feature_modalities)
        self.joint = _layer(joint, hidden_channels)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 50,
                  modalities: Sequence[str] = ('text', 'image'),
                  **kwargs: Any) -> 'TransAE':
        r"""Builds the model for :obj:`data` with its text and image
        features (images averaged over an entity's valid slots) as frozen
        buffers.

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The hidden size :math:`d`.
                (default: :obj:`50`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("text", "image")`)
            **kwargs (optional): Further arguments of :class:`TransAE`.
        """
        from pyg_mmkg.data import num_entities, num_relations
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   modalities=modalities,
                   features=features_from_data(data, modalities), **kwargs)

    def reset_parameters(self):
        # model.py: relations U(-6/sqrt(d), 6/sqrt(d)), then L1-normalised;
        # torch.nn.Linear's default initialisation elsewhere.
        bound = 6 / math.sqrt(self.hidden_channels)
        torch.nn.init.uniform_(self.rel_emb.weight, -bound, bound)
        with torch.no_grad():
            w = self.rel_emb.weight
            w.div_(w.norm(p=1, dim=-1, keepdim=True))
        for module in [getattr(self, 'encoders', {}),
                       getattr(self, 'decoders', {})]:
            for layer in module.values():
                for lin in layer.modules():
                    if isinstance(lin, Linear):
                        lin.reset_parameters()
        if getattr(self, 'joint', None) is not None:
            self.joint[0].reset_parameters()
            self.after_step()

    @torch.no_grad()
    def after_step(self):
        r"""L2-normalises the rows of the joint encoder weight."""
        w = self.joint[0].weight
        w.div_(w.norm(dim=-1, keepdim=True))

    # Autoencoder ###########################################################

    def inputs(self, index: Optional[Tensor] = None
               ) -> Dict[str, Tuple[Tensor, Tensor]]:
        r"""Per modality the (masked, ablated) inputs and masks of the
        entities :obj:`index` (default: all).

        Args:
            index (torch.Tensor, optional): The entity indices.
                (default: :obj:`None`, all entities)
        """
        out = {}
        for m in self.feature_modalities:
            x, mask = self.feature(m)
            if index is not None:
                x, mask = x[index], mask[index]
            out[m] = (x * mask.unsqueeze(-1).to(x.dtype), mask)
        return out

    def autoencode(self, index: Optional[Tensor] = None
                   ) -> Tuple[Tensor, Tensor]:
        r"""Returns the codes :obj:`[B, d]` of the entities :obj:`index`
        (default: all) and their reconstruction loss: per modality the mean
        squared error over the entities that have it.

        Args:
            index (torch.Tensor, optional): The entity indices.
                (default: :obj:`None`, all entities)
        """
        inputs = self.inputs(index)
        hidden = [self.encoders[m](x) for m, (x, _) in inputs.items()]
        code = self.joint(torch.cat(hidden, dim=-1))
        recon = code.new_zeros(())
        for m, (x, mask) in inputs.items():
            if bool(mask.any()):
                out = self.decoders[m](code[mask])
                recon = recon + F.mse_loss(out, x[mask])
        return code, recon

    def encode(self) -> Encoded:
        return self.autoencode()[0], self.rel_emb.weight

    # Scoring ###############################################################

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor,
                encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        return -energy(ent[head_index] + rel[rel_type] - ent[tail_index],
                       self.p_norm, root=True)

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        return -energy_all(ent[head_index] + rel[rel_type], ent, self.p_norm,
                           root=True)

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        return -energy_all(ent[tail_index] - rel[rel_type], ent, self.p_norm,
                           root=True)

    # Training ##############################################################

    def training_loss(self, batch: Any,
                      encoded: Optional[Encoded] = None) -> Optional[Tensor]:
        r""":math:`\beta` times the mean margin-ranking hinge of the
        positives against their negatives, plus the reconstruction losses of
        the positives' heads, tails and of the negatives' heads and tails
        (as :obj:`TransE.forward` of the reference sums them); :obj:`None`
        for 1-N batches.

        Args:
            batch (TrainBatch): The trainer batch.
            encoded ((torch.Tensor, torch.Tensor), optional): Unused (the codes
                are computed per batch entity). (default: :obj:`None`)
        """
        if batch.regime != 'slcwa':
            return None
        B, k = batch.neg_head.shape
        rel = self.rel_emb.weight
        loss = torch.zeros((), device=rel.device)
        codes = []
        for index in [batch.head_index, batch.tail_index,
                      batch.neg_head.reshape(-1), batch.neg_tail.reshape(-1)]:
            code, recon = self.autoencode(index)
            codes.append(code)
            loss = loss + recon
        h, t, nh, nt = codes
        r = rel[batch.rel_type]
        pos = energy(h + r - t, self.p_norm, root=True)
        neg = energy(nh.view(B, k, -1) + r.unsqueeze(1) - nt.view(B, k, -1),
                     self.p_norm, root=True)
        hinge = F.relu(self.margin + pos.unsqueeze(1) - neg).mean()
        return self.beta * hinge + loss

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""The reference loss with one corrupted head or tail per positive
        (:meth:`random_sample`), for PyG's loops.

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
        """
        from pyg_mmkg.train.batches import TrainBatch
        nh, _, nt = self.random_sample(head_index, rel_type, tail_index)
        return self.training_loss(
            TrainBatch('slcwa', head_index, rel_type, tail_index,
                       neg_head=nh.view(-1, 1), neg_tail=nt.view(-1, 1)))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'p_norm={self.p_norm}, {self._extra_repr_args()})')
