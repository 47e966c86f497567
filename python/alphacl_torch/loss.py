"""Every contrastive loss of α-CL Lab in PyTorch, with the lab's conventions.

Layout. The two views' embeddings ``z1``, ``z2`` (B × d each) are stacked into 2B rows
``y = cat([z1, z2])``: rows k and k+B are a positive pair (partner p(i) = (i + B) mod 2B). Every
row is an anchor; its negatives N(i) are the other 2B − 2 rows. Losses are averaged over the
2B anchors.

Geometry. With ``normalize=True`` z_i = y_i/‖y_i‖ and d²_ij = 1 − z_i·z_j (= ½‖z_i − z_j‖²);
without, d²_ij = ½(‖y_i‖² + ‖y_j‖²) − y_i·y_j. d² is clamped at 0 (rounding), d²_i = d²_{i,p(i)}.

Family rows L_{φ,ψ} (Tian 2022, Eqn. 1): L = (1/2B) Σ_i φ(ξ_i), ξ_i = Σ_{j∈N(i)} ψ(d²_i − d²_ij),
and α_ij = φ′(ξ_i)·ψ′(d²_i − d²_ij) (Theorem 1). Exponential ψ(u) = exp(a·u + b) rows are
evaluated in the log domain (log ξ_i by log-sum-exp), so a small τ neither overflows nor
underflows.

α-CL min players: α from the *detached* negative distances, row-normalised as the official
code's ``dual2``, α_ij = w_ij / (Σ_k w_ik + ε·(2B − 2)), and L = (1/2B) Σ_i Σ_j α_ij (d²_i − d²_ij).
Weights are divided by the row's largest one before normalising (the ε term scaled to match in
the log domain); ``acl-quadratic`` uses the exact Euclidean projection onto the simplex.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch

from .distributed import gather_with_grad
from .spec import LossSpec, parse_spec

__all__ = ["ContrastiveLoss"]

# (φ, ψ) of each family row: φ = ("log", s, eps) | ("identity",) | ("logsq",);
# ψ = ("exp", a, b) | ("hinge", eps) | ("sigmoid", c) | ("identity",).


def _family_row(spec: LossSpec):
    v = spec.get
    name = spec.name
    if name == "nt-xent":
        return ("log", 1.0, 1.0), ("exp", 1.0 / v("tau"), 0.0)
    if name == "infonce":
        return ("log", v("tau"), v("eps")), ("exp", 1.0 / v("tau"), 0.0)
    if name == "mine":
        return ("log", 1.0, 0.0), ("exp", 1.0, 0.0)
    if name == "triplet":
        return ("identity",), ("hinge", v("eps"))
    if name == "soft-triplet":
        return ("log", v("tau"), 1.0), ("exp", 1.0 / v("tau"), v("eps"))
    if name == "tuplet":
        return ("log", 1.0, 1.0), ("exp", 1.0, 0.0)
    if name == "lifted":
        return ("logsq",), ("exp", 1.0, v("eps"))
    if name == "modified-triplet":
        return ("identity",), ("sigmoid", v("c"))
    if name == "triplet-contrastive":
        return ("identity",), ("identity",)
    return None


def _phi_of_log(phi, lse: torch.Tensor) -> torch.Tensor:
    """φ(ξ) for ξ = exp(lse)."""
    kind = phi[0]
    if kind == "log":
        _, s, eps = phi
        if eps > 0.0:
            lse = torch.logaddexp(lse, torch.full_like(lse, math.log(eps)))
        return s * lse
    if kind == "identity":
        return torch.exp(lse)
    # [log ξ]²₊
    return torch.clamp(lse, min=0.0) ** 2


def _phi_direct(phi, xi: torch.Tensor) -> torch.Tensor:
    kind = phi[0]
    if kind == "identity":
        return xi
    if kind == "log":
        _, s, eps = phi
        return s * torch.log(eps + xi)
    return torch.where(xi > 1.0, torch.log(torch.clamp(xi, min=1.0)) ** 2, torch.zeros_like(xi))


def _family_anchor_loss(phi, psi, u: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """φ(ξ_i) per anchor row from u_ij = d²_i − d²_ij (negatives where ``neg``)."""
    kind = psi[0]
    if kind == "exp":
        _, a, b = psi
        logits = torch.where(neg, a * u + b, torch.full_like(u, -math.inf))
        return _phi_of_log(phi, torch.logsumexp(logits, dim=1))
    if kind == "hinge":
        val = torch.relu(u + psi[1])
    elif kind == "sigmoid":
        val = torch.sigmoid(psi[1] * u)
    else:
        val = u
    xi = torch.where(neg, val, torch.zeros_like(val)).sum(dim=1)
    return _phi_direct(phi, xi)


def _simplex_threshold(t: torch.Tensor, neg: torch.Tensor, tau: float) -> torch.Tensor:
    """Per row, the μ with Σ_{j∈N} [μ − t_j]₊ = τ (sort-based rule of PAPER.md §4): with
    t sorted ascending, the largest K with t_K < (Σ_{m≤K} t_m + τ)/K, μ = (Σ_{m≤K} t_m + τ)/K."""
    big = torch.where(neg, t, torch.full_like(t, math.inf))
    srt, _ = torch.sort(big, dim=1)
    m = t.shape[1] - 2  # every anchor has 2B − 2 negatives
    srt = srt[:, :m]
    csum = torch.cumsum(srt, dim=1)
    k = torch.arange(1, m + 1, dtype=t.dtype, device=t.device)
    cand = (csum + tau) / k
    ok = srt < cand
    ok[:, 0] = True
    idx = torch.where(ok, torch.arange(m, device=t.device), torch.full_like(ok, -1, dtype=torch.long))
    last = idx.max(dim=1).values
    return cand.gather(1, last[:, None])[:, 0]


def _min_player_alpha(spec: LossSpec, d2: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """α of an α-CL min player on (detached) distances d2 (rows × 2B), zero off ``neg``."""
    d2 = d2.detach()
    n = d2.shape[1]
    name = spec.name
    tau = spec.get("tau")
    eps = spec.get("eps")
    eps = eps if (math.isfinite(eps) and eps > 0.0) else 0.0
    slack = eps * (n - 2)
    log_slack = math.log(slack) if slack > 0.0 else -math.inf
    zero = torch.zeros_like(d2)
    inf = torch.full_like(d2, math.inf)
    d_min = torch.where(neg, d2, inf).min(dim=1, keepdim=True).values
    if name == "acl-quadratic":
        t = d2 - d_min
        mu = _simplex_threshold(t, neg, tau)[:, None]
        w = torch.where(neg & (t < mu), (mu - t) / (tau * (1.0 + slack)), zero)
        return w
    pw = 2.0 if name == "acl-entropy" else spec.get("p")

    def pow_half(x: torch.Tensor) -> torch.Tensor:
        if pw == 2.0:
            return x
        if pw == 4.0:
            return x * x
        if pw == 1.0:
            return torch.sqrt(x)
        return torch.where(x > 0, torch.clamp(x, min=0).pow(0.5 * pw), torch.zeros_like(x))

    s = pow_half(d2)
    s_min = pow_half(d_min)
    log_slack_t = torch.full_like(s_min[:, 0], log_slack)
    if name in ("acl-entropy", "acl-direct"):
        e = torch.where(neg, torch.exp((s_min - s) / tau), zero)
        log_d = torch.logaddexp(torch.log(e.sum(dim=1)), log_slack_t + s_min[:, 0] / tau)
        return e * torch.exp(-log_d)[:, None]
    if name == "acl-inverse":
        k = spec.get("k")
        top = s_min + tau
        r = top / (s + tau)
        w = r if k == 1.0 else (r * r if k == 2.0 else r.pow(k))
        w = torch.where(neg, w, zero)
        log_d = torch.logaddexp(torch.log(w.sum(dim=1)), log_slack_t + k * torch.log(top[:, 0]))
        return w * torch.exp(-log_d)[:, None]
    raise AssertionError(f"not a min player: {name}")


class ContrastiveLoss(torch.nn.Module):
    """A contrastive loss of α-CL Lab, given by its text form.

    >>> loss_fn = ContrastiveLoss("acl-direct:tau=0.5,p=4,eps=0")
    >>> loss = loss_fn(z1, z2)          # z1, z2: B × d embeddings of the two views

    ``spec`` is exactly the lab's text form (same names, defaults, ranges and error messages;
    a bad spec raises :class:`ValueError`). ``normalize`` L2-normalises the embeddings first, as
    the lab's default; turn it off for the paper's theory settings. With ``gather=True`` under
    ``torch.distributed`` every rank's embeddings are gathered (gradients flow back to their
    rank), so each sample's negatives are the global batch; see :meth:`forward`.

    Inputs may be on any device and of any floating dtype; the loss is computed in that dtype.
    """

    def __init__(self, spec: Union[str, LossSpec], normalize: bool = True, gather: bool = False):
        super().__init__()
        self.spec = spec if isinstance(spec, LossSpec) else parse_spec(spec)
        self.normalize = bool(normalize)
        self.gather = bool(gather)
        self._row = _family_row(self.spec)

    def extra_repr(self) -> str:
        return f"spec='{self.spec.to_text()}', normalize={self.normalize}, gather={self.gather}"

    # ---- inputs and geometry ------------------------------------------------------------

    @staticmethod
    def _views(z1: torch.Tensor, z2: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(z1, torch.Tensor) or (z2 is not None and not isinstance(z2, torch.Tensor)):
            raise TypeError("embeddings must be torch tensors")
        if z2 is None:
            # The lab's stacked layout: 2B rows, row k and row k+B are a positive pair.
            if z1.dim() != 2:
                raise ValueError(
                    f"a stacked batch must be 2-D (2B rows × d), got shape {tuple(z1.shape)}"
                )
            n = z1.shape[0]
            if n % 2 != 0:
                raise ValueError(
                    f"a stacked batch needs an even number of rows (rows k and k+B are partners), got {n}"
                )
            z1, z2 = z1[: n // 2], z1[n // 2 :]
        if z1.dim() != 2 or z2.dim() != 2:
            raise ValueError(
                f"z1 and z2 must be 2-D (B × d), got shapes {tuple(z1.shape)} and {tuple(z2.shape)}"
            )
        if z1.shape != z2.shape:
            raise ValueError(
                f"z1 and z2 must have the same shape (row k of z1 and row k of z2 are a positive pair), "
                f"got {tuple(z1.shape)} and {tuple(z2.shape)}"
            )
        if not (z1.is_floating_point() and z2.is_floating_point()):
            raise TypeError(f"embeddings must be floating point, got {z1.dtype} and {z2.dtype}")
        if z1.dtype != z2.dtype or z1.device != z2.device:
            raise ValueError(
                f"z1 and z2 must share dtype and device, got {z1.dtype}/{z1.device} and {z2.dtype}/{z2.device}"
            )
        if z1.shape[1] == 0:
            raise ValueError("embeddings have zero dimensions")
        return z1, z2

    def _batch(self, z1, z2) -> Tuple[torch.Tensor, torch.Tensor, int]:
        """The embeddings of the whole (gathered) batch, the global indices of this process's
        rows, and the number of pairs B of the whole batch."""
        z1, z2 = self._views(z1, z2)
        b_local = z1.shape[0]
        rank = 0
        if self.gather:
            import torch.distributed as dist

            if not (dist.is_available() and dist.is_initialized()):
                raise RuntimeError(
                    "gather=True needs torch.distributed to be initialised "
                    "(e.g. torch.distributed.init_process_group under torchrun)"
                )
            rank = dist.get_rank()
            z1 = gather_with_grad(z1)
            z2 = gather_with_grad(z2)
        # Checked after the gather, so a NaN on one rank raises on every rank (no hang).
        if not bool(torch.isfinite(z1).all()) or not bool(torch.isfinite(z2).all()):
            raise ValueError("non-finite value (NaN or infinity) in the input embeddings")
        b = z1.shape[0]
        if b < 2:
            raise ValueError(
                f"a batch needs at least 2 pairs (4 rows) so every anchor has a negative, got {b} pair(s)"
            )
        y = torch.cat([z1, z2], dim=0)
        lo = rank * b_local
        own = torch.arange(lo, lo + b_local, device=y.device)
        rows = torch.cat([own, own + b])
        return y, rows, b

    def _embed(self, y: torch.Tensor) -> torch.Tensor:
        if not self.normalize:
            return y
        norms = torch.linalg.vector_norm(y, dim=1, keepdim=True)
        bad = (norms[:, 0] <= 0) | ~torch.isfinite(norms[:, 0])
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0, 0].item())
            raise ValueError(
                f"row {i} has zero norm and cannot be L2-normalised (turn normalisation off or fix the input)"
            )
        return y / norms

    def _distances(self, z: torch.Tensor, rows: torch.Tensor, b: int):
        """d² of the anchor ``rows`` to every row, the partner distances and the negative mask."""
        n = 2 * b
        zr = z[rows]
        gram = zr @ z.T
        if self.normalize:
            d2 = 1.0 - gram
        else:
            sq = (z * z).sum(dim=1)
            d2 = 0.5 * (sq[rows][:, None] + sq[None, :]) - gram
        d2 = torch.clamp(d2, min=0.0)
        partner = (rows + b) % n
        cols = torch.arange(n, device=z.device)
        neg = (cols[None, :] != rows[:, None]) & (cols[None, :] != partner[:, None])
        d2_pos = d2.gather(1, partner[:, None])[:, 0]
        return d2, d2_pos, neg

    # ---- the loss ---------------------------------------------------------------------------

    def _anchor_losses(self, z, rows, b):
        """Per-anchor loss ℓ_i for ``rows`` (the loss is their mean over all 2B anchors)."""
        d2, d2_pos, neg = self._distances(z, rows, b)
        if self._row is not None:
            phi, psi = self._row
            return _family_anchor_loss(phi, psi, d2_pos[:, None] - d2, neg)
        alpha = _min_player_alpha(self.spec, d2, neg)
        return (alpha * (d2_pos[:, None] - d2)).sum(dim=1)

    def forward(self, z1: torch.Tensor, z2: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The loss of the batch: mean over the 2B anchors.

        ``loss_fn(z1, z2)`` takes the two views (B × d each; row k of ``z1`` and row k of ``z2``
        are a positive pair); ``loss_fn(y)`` takes the lab's stacked layout (2B × d, rows k and
        k+B are a pair).

        With ``gather=True`` each rank passes its own B_r × d views; the rows of all ranks are
        gathered (all views 1 of rank 0, 1, …, then all views 2), each sample's negatives are
        the global batch, and the value returned on a rank is the mean of the loss over *its
        own* 2B_r anchors (the SimCLR multi-GPU recipe). The mean of these values over the ranks
        is the one-process loss of the whole batch; gradients flowing back through the gather
        are summed over ranks, so the gradient on each rank is world_size × the one-process
        gradient, and DistributedDataParallel's gradient averaging (÷ world_size) makes the
        parameter update exactly the one-process one. Every rank must hold the same B_r.
        """
        y, rows, b = self._batch(z1, z2)
        z = self._embed(y)
        ell = self._anchor_losses(z, rows, b)
        loss = ell.mean()
        if not bool(torch.isfinite(loss)):
            raise FloatingPointError(f"non-finite value in the {self.spec.name} loss value")
        return loss

    @torch.no_grad()
    def _alpha(self, z: torch.Tensor, b: int) -> torch.Tensor:
        rows = torch.arange(2 * b, device=z.device)
        d2, d2_pos, neg = self._distances(z, rows, b)
        if self._row is None:
            return _min_player_alpha(self.spec, d2, neg)
        # Theorem 1: α_ij = φ′(ξ_i)·ψ′(u_ij) = ∂φ(ξ_i)/∂u_ij with u_ij = d²_i − d²_ij.
        phi, psi = self._row
        with torch.enable_grad():
            u = (d2_pos[:, None] - d2).detach().requires_grad_(True)
            total = _family_anchor_loss(phi, psi, u, neg).sum()
            (grad,) = torch.autograd.grad(total, u)
        return torch.where(neg, grad, torch.zeros_like(grad))

    def alpha_beta(
        self, z1: torch.Tensor, z2: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """α (2B × 2B) and β (2B) of the batch, detached.

        Row i of α is anchor i in the stacked layout (rows 0..B−1 are ``z1``, rows B..2B−1 are
        ``z2``; row k and row k+B are a pair); α_ij ≥ 0 is the weight of negative j for anchor
        i, zero on the diagonal and on the partner column; β_i = Σ_j α_ij is the weight of
        anchor i's positive pair. Family rows give the Theorem-1 α, min players their α. With
        ``gather=True`` these are of the whole gathered batch (the same on every rank).
        """
        y, _, b = self._batch(z1.detach(), None if z2 is None else z2.detach())
        z = self._embed(y)
        alpha = self._alpha(z, b)
        return alpha, alpha.sum(dim=1)
