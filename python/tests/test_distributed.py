"""gather=True: two gloo processes on the CPU, each holding half of the batch, give the
one-process loss and gradients (SimCLR multi-GPU convention, see ContrastiveLoss.forward):
the mean of the ranks' losses is the one-process loss, and each rank's per-sample gradient is
world_size × the one-process gradient (DDP's averaging divides it back)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from alphacl_torch import ContrastiveLoss
from conftest import close, rust_catalogue

WORLD = 2
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dist")
    g = torch.Generator().manual_seed(2022)
    b, d = 6, 5  # 3 pairs per rank
    z1 = torch.randn(b, d, generator=g, dtype=torch.float64)
    z2 = z1 + 2.0 * torch.randn(b, d, generator=g, dtype=torch.float64)
    specs = [(e["spec"], True) for e in rust_catalogue()]
    specs += [("acl-quadratic:tau=0.2,eps=0.1", False), ("infonce:tau=0.1,eps=0", False)]
    torch.save({"z1": z1, "z2": z2, "specs": specs}, tmp / "batch.pt")
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME=os.environ.get("GLOO_SOCKET_IFNAME", "lo"))
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "dist_worker.py"), str(r), str(WORLD),
             str(tmp / "store"), str(tmp / "batch.pt"), str(tmp / f"out{r}.pt")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for r in range(WORLD)
    ]
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=300)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log
    outs = [torch.load(tmp / f"out{r}.pt") for r in range(WORLD)]
    return z1, z2, specs, outs


def test_two_ranks_equal_one_process(runs):
    z1, z2, specs, outs = runs
    b = z1.shape[0] // WORLD
    for k, (spec, normalize) in enumerate(specs):
        a = z1.clone().requires_grad_(True)
        c = z2.clone().requires_grad_(True)
        loss_fn = ContrastiveLoss(spec, normalize=normalize)
        loss = loss_fn(a, c)
        loss.backward()
        alpha, beta = loss_fn.alpha_beta(a, c)
        ranks = [o["results"][k] for o in outs]
        close(sum(r["loss"] for r in ranks) / WORLD, loss.detach())
        for rank, r in enumerate(ranks):
            mine = slice(rank * b, (rank + 1) * b)
            close(r["g1"] / WORLD, a.grad[mine])
            close(r["g2"] / WORLD, c.grad[mine])
            close(r["alpha"], alpha)
            close(r["beta"], beta)
        # Each rank's value is the mean over its own anchors, not the global mean.
        if spec.startswith("nt-xent"):
            assert abs(float(ranks[0]["loss"]) - float(ranks[1]["loss"])) > 1e-9


def test_unequal_local_batches_fail_on_every_rank(runs):
    *_, outs = runs
    for o in outs:
        assert o["mismatch"] is not None and "same embedding shape on every rank" in o["mismatch"]


def test_nan_on_one_rank_fails_on_every_rank(runs):
    *_, outs = runs
    for o in outs:
        assert o["nan"] is not None and "non-finite" in o["nan"]
