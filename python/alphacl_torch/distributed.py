"""An all-gather that keeps the autograd graph: the multi-GPU half of the SimCLR recipe.

``torch.distributed.all_gather`` returns tensors with no history, so negatives taken from other
ranks would carry no gradient back. :func:`gather_with_grad` concatenates every rank's tensor
(rank 0 first) and, in the backward pass, sums the incoming gradients over all ranks (every
rank's loss depends on every rank's rows) and hands each rank the slice of its own rows.
"""

from __future__ import annotations

import torch

__all__ = ["gather_with_grad"]


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        world = dist.get_world_size()
        ctx.rank = dist.get_rank()
        ctx.rows = x.shape[0]
        parts = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        total = grad.contiguous().clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        lo = ctx.rank * ctx.rows
        return total[lo : lo + ctx.rows]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Every rank's ``x`` (same shape on every rank) concatenated along dim 0, in rank order,
    with gradients flowing back to the rank each row came from."""
    import torch.distributed as dist

    world = dist.get_world_size()
    if world == 1:
        return x
    # Every rank checks the shapes first, so a mismatch raises everywhere instead of hanging.
    shape = torch.tensor(list(x.shape), dtype=torch.long, device=x.device)
    shapes = [torch.empty_like(shape) for _ in range(world)]
    dist.all_gather(shapes, shape)
    seen = [tuple(int(v) for v in s.tolist()) for s in shapes]
    if any(s != seen[0] for s in seen):
        raise ValueError(
            f"gather=True needs the same embedding shape on every rank, got {seen} (rank order)"
        )
    return _GatherWithGrad.apply(x)
