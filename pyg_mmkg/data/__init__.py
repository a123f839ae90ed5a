r"""The MMKG data contract, raw-format readers and RDF import."""
from pyg_mmkg.data.contract import (EDGE, ENTITY, RELATION, SPLITS,
                                    filter_index, known_triples, make_kg_data,
                                    num_entities, num_relations,
                                    to_relation_typed, train_graph, triples)
from pyg_mmkg.data.io import RawFormatError, atomic_save, read_image_index
from pyg_mmkg.data.raw import (LAYOUTS, detect_layout, load_vista_features,
                               read_kg_folder)
from pyg_mmkg.data.rdf import from_rdf
from pyg_mmkg.data.validate import (ContractError, UnseenEntityWarning,
                                    validate)
from pyg_mmkg.data.align import FeatureMatchWarning, align_keys
from pyg_mmkg.data.overlap import (SplitOverlapError, SplitOverlapWarning,
                                   check_split_overlap, split_overlap)

__all__ = [
    'ENTITY',
    'RELATION',
    'EDGE',
    'SPLITS',
    'make_kg_data',
    'triples',
    'known_triples',
    'train_graph',
    'filter_index',
    'to_relation_typed',
    'num_entities',
    'num_relations',
    'validate',
    'UnseenEntityWarning',
    'ContractError',
    'SplitOverlapError',
    'FeatureMatchWarning',
    'align_keys',
    'SplitOverlapWarning',
    'check_split_overlap',
    'split_overlap',
    'RawFormatError',
    'atomic_save',
    'read_image_index',
    'LAYOUTS',
    'detect_layout',
    'read_kg_folder',
    'load_vista_features',
    'from_rdf',
]
