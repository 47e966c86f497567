"""α-CL Lab's contrastive losses for PyTorch.

>>> from alphacl_torch import ContrastiveLoss
>>> loss_fn = ContrastiveLoss("acl-direct:tau=0.5,p=4,eps=0")
>>> loss = loss_fn(z1, z2)            # the two views' embeddings, B × d each
>>> alpha, beta = loss_fn.alpha_beta(z1, z2)

Every loss spec of the lab (the L_{φ,ψ} family rows, the α-CL min players and ``nt-xent``) in
its text form; the values, gradients, α and β equal the lab's reference calculator
``alphacl loss --json`` (tested to 1e-6 in float64).
"""

from .distributed import gather_with_grad
from .loss import ContrastiveLoss
from .spec import LOSSES, LossInfo, LossSpec, Param, Range, parse_spec

__version__ = "0.1.0"

__all__ = [
    "ContrastiveLoss",
    "LOSSES",
    "LossInfo",
    "LossSpec",
    "Param",
    "Range",
    "gather_with_grad",
    "parse_spec",
]
