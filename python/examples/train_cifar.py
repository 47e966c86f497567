"""Train a conv encoder on the lab's prepared CIFAR-10 file with an α-CL Lab loss.

    python python/examples/train_cifar.py --loss "acl-direct:tau=0.5,p=4,eps=0" --steps 500
    torchrun --nproc_per_node=2 python/examples/train_cifar.py --loss nt-xent:tau=0.5   # multi-GPU

The data is `web/data/cifar10-16.bin` (written by `scripts/setup.sh`, or
`scripts/prepare-data.sh`). The encoder is the lab's `cnn:width=32,blocks=4,head=256,out=64`:
blocks of [conv3×3 (no bias) → BatchNorm → ReLU] with width·2^b channels (stride 2 after the
first block), global average pooling to the representation h, then the projection head
Linear → BatchNorm → ReLU → Linear to z, which the loss sees. The loop is the usual
solo-learn / lightly shape: two augmented views, one encoder, `loss_fn(z1, z2)`, backward,
step; only the line that builds `loss_fn` is α-CL-specific. Under torchrun the encoder is
wrapped in DistributedDataParallel and the loss gathers every rank's embeddings
(`gather=True`), so each sample's negatives are the global batch.

Prints the loss every `--log-every` steps and, at the end, the kNN accuracy (k = 20, cosine)
of the representation h on the test split. Needs only torch and alphacl_torch.
"""

from __future__ import annotations

import argparse
import os
import struct
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from alphacl_torch import ContrastiveLoss

MAGIC = b"ACLCIFAR"


def load_prepared(path: Path):
    """Reads the lab's prepared CIFAR file (format in src/data/cifar.rs): magic, version u16,
    channels u8, side u8, train/test counts u32, class names, then labels (u8) and CHW u8
    pixels of the train split, then of the test split. All little-endian."""
    buf = path.read_bytes()
    if buf[:8] != MAGIC:
        raise ValueError(f"{path} is not a prepared CIFAR file (magic {buf[:8]!r})")
    version, channels, side, n_train, n_test, k = struct.unpack_from("<HBBIIB", buf, 8)
    if version != 1:
        raise ValueError(f"{path}: unsupported version {version}")
    off = 8 + struct.calcsize("<HBBIIB")
    names = []
    for _ in range(k):
        n = buf[off]
        names.append(buf[off + 1 : off + 1 + n].decode())
        off += 1 + n
    img = channels * side * side

    def split(off: int, count: int):
        labels = torch.frombuffer(bytearray(buf[off : off + count]), dtype=torch.uint8).long()
        off += count
        pix = torch.frombuffer(bytearray(buf[off : off + count * img]), dtype=torch.uint8)
        return labels, pix.reshape(count, channels, side, side), off + count * img

    ytr, xtr, off = split(off, n_train)
    yte, xte, off = split(off, n_test)
    if off != len(buf):
        raise ValueError(f"{path}: {len(buf) - off} unexpected bytes at the end")
    return (xtr, ytr), (xte, yte), names


class ConvEncoder(nn.Module):
    """The lab's `cnn:width=…,blocks=…,head=…,out=…` encoder."""

    def __init__(self, channels: int, width: int = 32, blocks: int = 4, head: int = 256, out: int = 64):
        super().__init__()
        layers, c = [], channels
        for b in range(blocks):
            layers += [
                nn.Conv2d(c, width << b, 3, stride=1 if b == 0 else 2, padding=1, bias=False),
                nn.BatchNorm2d(width << b),
                nn.ReLU(inplace=True),
            ]
            c = width << b
        self.backbone = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = (
            nn.Sequential(nn.Linear(c, head), nn.BatchNorm1d(head), nn.ReLU(inplace=True), nn.Linear(head, out))
            if head > 0
            else nn.Identity()
        )

    def forward(self, x):
        return self.head(self.backbone(x))


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random crop (pad 2, reflect), horizontal flip and brightness/contrast jitter; x in [0,1]."""
    n, _, s, _ = x.shape
    pad = 2
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    rows = (dy[:, None] + torch.arange(s)[None, :]).to(x.device)
    cols = (dx[:, None] + torch.arange(s)[None, :]).to(x.device)
    idx = torch.arange(n, device=x.device)[:, None, None, None]
    ch = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    out = xp[idx, ch, rows[:, None, :, None], cols[:, None, None, :]]
    flip = (torch.rand(n, generator=g) < 0.5).to(x.device)
    out = torch.where(flip[:, None, None, None], out.flip(3), out)
    bright = (torch.rand(n, 1, 1, 1, generator=g) * 0.8 + 0.6).to(x.device)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    contrast = (torch.rand(n, 1, 1, 1, generator=g) * 0.8 + 0.6).to(x.device)
    return ((out - mean) * contrast + mean * bright).clamp(0, 1)


@torch.no_grad()
def knn_accuracy(backbone, xtr, ytr, xte, yte, device, k: int = 20, chunk: int = 500) -> float:
    """Cosine kNN (majority of k neighbours) of the representation h: train → test."""
    def embed(x):
        return torch.cat(
            [F.normalize(backbone(x[i : i + chunk].to(device).float() / 255), dim=1) for i in range(0, len(x), chunk)]
        )

    htr, hte = embed(xtr), embed(xte)
    correct = 0
    for i in range(0, len(hte), chunk):
        sims = hte[i : i + chunk] @ htr.T
        nn_idx = sims.topk(k, dim=1).indices
        votes = ytr.to(device)[nn_idx]
        pred = torch.mode(votes, dim=1).values
        correct += int((pred == yte[i : i + chunk].to(device)).sum())
    return correct / len(hte)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="web/data/cifar10-16.bin")
    ap.add_argument("--loss", default="acl-direct:tau=0.5,p=4,eps=0", help="the lab's loss text form")
    ap.add_argument("--no-normalize", action="store_true", help="raw embeddings (no L2 normalisation)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=256, help="pairs per step (per rank under torchrun)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--head", type=int, default=256)
    ap.add_argument("--out", type=int, default=64)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--knn-train", type=int, default=5000, help="train images used as kNN memory (0: skip kNN)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = 0
    if distributed:
        import torch.distributed as dist

        dist.init_process_group("nccl" if args.device.startswith("cuda") else "gloo")
        rank = dist.get_rank()
        if args.device.startswith("cuda"):
            args.device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
            torch.cuda.set_device(args.device)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    g = torch.Generator().manual_seed(args.seed * 1000 + rank)  # each rank its own batches

    (xtr, ytr), (xte, yte), names = load_prepared(Path(args.data))
    encoder = ConvEncoder(xtr.shape[1], args.width, args.blocks, args.head, args.out).to(device)
    model = encoder
    if distributed:
        if device.type == "cuda":  # batch statistics over the global batch (GPU only)
            encoder = nn.SyncBatchNorm.convert_sync_batchnorm(encoder)
        model = nn.parallel.DistributedDataParallel(encoder)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    # The one α-CL-specific line: any loss of the lab, by its text form.
    loss_fn = ContrastiveLoss(args.loss, normalize=not args.no_normalize, gather=distributed)

    if rank == 0:
        print(f"{len(xtr)} train / {len(xte)} test images {tuple(xtr.shape[1:])}, {len(names)} classes; "
              f"loss {loss_fn.spec}; device {device}")
    t0 = time.time()
    model.train()
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(xtr), (args.batch,), generator=g)
        x = xtr[idx].to(device).float() / 255
        v1, v2 = augment(x, g), augment(x, g)
        z1, z2 = model(v1), model(v2)  # two views through the same encoder
        loss = loss_fn(z1, z2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % args.log_every == 0 or step == 1 or step == args.steps:
            # Every rank calls alpha_beta (it gathers under torchrun); rank 0 prints.
            _, beta = loss_fn.alpha_beta(z1.detach(), z2.detach())
            if rank == 0:
                print(f"step {step:5d}  loss {loss.item():.5f}  mean β {beta.mean().item():.4f}  "
                      f"{step / (time.time() - t0):.1f} steps/s", flush=True)

    if rank == 0 and args.knn_train > 0:
        encoder.eval()
        n = min(args.knn_train, len(xtr))
        acc = knn_accuracy(encoder.backbone, xtr[:n], ytr[:n], xte, yte, device)
        print(f"kNN accuracy (k=20, representation h, {n} train images): {acc:.4f}")
    if distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
