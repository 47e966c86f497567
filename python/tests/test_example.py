"""The README's example trains on a prepared CIFAR file: run it for a few steps on a tiny file
written here in the lab's prepared format (src/data/cifar.rs), with a real kNN evaluation."""

import struct
import subprocess
import sys
from pathlib import Path

import torch

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_cifar.py"


def write_prepared(path: Path, n_train: int, n_test: int, side: int = 8, channels: int = 3):
    g = torch.Generator().manual_seed(0)
    names = [f"class{k}" for k in range(3)]
    out = bytearray(b"ACLCIFAR")
    out += struct.pack("<HBBIIB", 1, channels, side, n_train, n_test, len(names))
    for n in names:
        out += bytes([len(n)]) + n.encode()
    for count in (n_train, n_test):
        labels = torch.randint(0, len(names), (count,), generator=g, dtype=torch.uint8)
        # Each class has its own mean colour, so the encoder has something to find.
        base = labels.float()[:, None, None, None] * 80 + 30
        pix = (base + 20 * torch.randn(count, channels, side, side, generator=g)).clamp(0, 255)
        out += bytes(labels.tolist()) + bytes(pix.to(torch.uint8).flatten().tolist())
    path.write_bytes(bytes(out))


def test_example_trains_a_few_steps(tmp_path):
    data = tmp_path / "tiny.bin"
    write_prepared(data, 120, 40)
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--data", str(data), "--steps", "3", "--batch", "16",
         "--width", "8", "--blocks", "2", "--head", "16", "--out", "8", "--log-every", "1",
         "--knn-train", "120", "--loss", "acl-quadratic:tau=0.2", "--device", "cpu"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    steps = [l for l in lines if l.startswith("step ")]
    assert len(steps) == 3, out.stdout
    losses = [float(l.split("loss ")[1].split()[0]) for l in steps]
    assert all(l == l and abs(l) < 1e6 for l in losses)
    acc = float(lines[-1].rsplit(":", 1)[1])
    assert 0.0 <= acc <= 1.0 and "kNN accuracy" in lines[-1]
    assert "120 train / 40 test images (3, 8, 8), 3 classes" in lines[0]


def test_example_rejects_a_file_that_is_not_prepared(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOTCIFAR" + bytes(40))
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--data", str(bad), "--steps", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode != 0 and "not a prepared CIFAR file" in out.stderr
