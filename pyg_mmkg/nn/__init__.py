r"""Neural modules: KGE scorers and unimodal models (:mod:`.kge`),
relational message-passing encoders (:mod:`.encoders`) and the multimodal
methods (:mod:`.models`)."""
from pyg_mmkg.nn import encoders, kge, models
from pyg_mmkg.nn.encoders import *  # noqa: F401,F403
from pyg_mmkg.nn.kge import *  # noqa: F401,F403
from pyg_mmkg.nn.models import *  # noqa: F401,F403

__all__ = (['kge', 'encoders', 'models'] + list(kge.__all__) +
           list(encoders.__all__) + list(models.__all__))
