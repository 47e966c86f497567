"""One rank of the distributed test (run by test_distributed.py, not collected by pytest).

argv: rank world_size store_file batch.pt out.pt. Takes its slice of both views of the batch,
evaluates every spec with gather=True on the gloo backend and saves loss, per-sample gradients,
α and β.
"""

import sys

import torch
import torch.distributed as dist

from alphacl_torch import ContrastiveLoss


def main() -> None:
    rank, world, store, batch_path, out_path = sys.argv[1:6]
    rank, world = int(rank), int(world)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    batch = torch.load(batch_path)
    z1, z2, specs = batch["z1"], batch["z2"], batch["specs"]
    b = z1.shape[0] // world
    mine = slice(rank * b, (rank + 1) * b)
    results = []
    for spec, normalize in specs:
        a = z1[mine].clone().requires_grad_(True)
        c = z2[mine].clone().requires_grad_(True)
        loss_fn = ContrastiveLoss(spec, normalize=normalize, gather=True)
        loss = loss_fn(a, c)
        loss.backward()
        alpha, beta = loss_fn.alpha_beta(a, c)
        results.append(
            {"loss": loss.detach(), "g1": a.grad, "g2": c.grad, "alpha": alpha, "beta": beta}
        )
    # Different local batch sizes must fail on every rank (not hang).
    try:
        rows = b - 1 if rank == 1 else b
        ContrastiveLoss("nt-xent", gather=True)(z1[:rows], z2[:rows])
        mismatch = None
    except ValueError as e:
        mismatch = str(e)
    # A NaN on one rank only must raise on every rank.
    try:
        a = z1[mine].clone()
        if rank == 1:
            a[0, 0] = float("nan")
        ContrastiveLoss("acl-direct", gather=True)(a, z2[mine])
        nan = None
    except ValueError as e:
        nan = str(e)
    torch.save({"results": results, "mismatch": mismatch, "nan": nan}, out_path)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
