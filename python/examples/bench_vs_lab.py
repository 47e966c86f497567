"""The lab's CIFAR preset in PyTorch (CPU, 1 thread) against the lab's CLI, at equal training time.

    scripts/bench-pytorch.sh [MINUTES] [LOSS] [--parallel]     # sets up the venv, then runs this
    python python/examples/bench_vs_lab.py --minutes 10 --lab [--parallel] [--out target/bench-pytorch]

A benchmark, not a test. Both engines train the run of `--config` (default
examples/cifar10-16px.txt) on the same prepared file (web/data/cifar10-16.bin) for the same
training wall time (evaluations excluded on both sides), and evaluate the same way: weighted kNN
(k = 20, T = 0.07, on L2-normalised rows) of the representation h (the backbone output, before
the projection head) of the whole prepared test split against the whole training split as the
memory bank, every `eval` steps and at the end. The PyTorch side:

- **encoder** — `ConvEncoder` of train_cifar.py (the lab's `cnn:width=…,blocks=…,head=…,out=…`:
  [conv3×3 pad 1, no bias → BatchNorm2d → ReLU] × blocks, width·2^b channels, stride 1 then 2,
  global average pooling to h, head Linear (no bias) → BatchNorm1d → ReLU → Linear), initialised
  as the lab does (src/nn/layers.rs): conv weights U(±√(6/fan_in)), head weights U(±g·√(6/in))
  with g = 1 for the first and 1/√2 for the last layer, biases 0, BatchNorm γ = 1, β = 0
  (momentum 0.1, ε = 1e-5, unbiased running variance: PyTorch's and the lab's convention). The
  two views go through the encoder as one batch of 2B rows (rows k and k+B a pair), as in the
  lab, so BatchNorm's statistics are over both views;
- **loss** — `alphacl_torch.ContrastiveLoss(spec, normalize=…)` on the stacked 2B rows (tested
  equal to the lab's engine);
- **optimiser** — torch.optim.Adam (β = 0.9, 0.999, ε = 1e-8; the same update as
  src/nn/optim.rs) with the lab's schedule set every step: η_t = η·t/W for t ≤ W, then cosine
  η·½(1 + cos(π·min(1, (t − W)/(T − W)))) (or constant);
- **augmentation** — the lab's SimCLR pipeline (src/data/augment.rs) batched in torch: random
  resized crop (area s ~ U[1 − 0.92·crop, 1], aspect log-uniform in [max(3/4, s), min(4/3, 1/s)],
  uniform position, bilinear with pixel-centre alignment and clamped borders — `affine_grid` +
  `grid_sample(align_corners=False, padding_mode="border")` is exactly that map), flip, colour
  jitter with probability 0.8 (brightness, contrast about the mean grey, saturation about the
  per-pixel grey, hue rotation of YIQ's chroma plane, clamping after every step), grey;
- **batches** — B distinct training indices per step (a random permutation's first B), pixels
  v/255, the two views made from the same images.

What differs by construction: the random streams (the lab's xoshiro streams versus torch's
generator, so the sampled batches, augmentations and initial weights are different draws of the
same distributions), float rounding (the lab interpolates and colour-converts in float64, torch
in float32; GEMM/convolution kernels differ), and the per-step training time includes, on both
sides, sampling and augmenting the batch, forward, loss, backward and the update.

torch runs with torch.set_num_threads(1) (and OMP/MKL_NUM_THREADS=1); the lab's CLI is
single-threaded. By default the two run one after the other (the machine's other cores idle);
`--parallel` runs them at the same time, each pinned to its own core.

Outputs in `--out` (default target/bench-pytorch): lab/ (the CLI's run.json, metrics.csv, …),
torch/metrics.csv and torch/run.json (same columns and keys), curves.csv (engine, step, time_s,
knn_acc for both), summary.json and table.md (the printed tables).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_cifar import ConvEncoder, load_prepared  # noqa: E402

from alphacl_torch import ContrastiveLoss  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KNN_K, KNN_T = 20, 0.07  # src/analysis/probe.rs
LUMA = (0.299, 0.587, 0.114)


# ---- the run's text form ------------------------------------------------------------------


def parse_component(text: str):
    """`name:k=v,k=v` (or `name:flag,k=v`) → (name, {k: v})."""
    name, _, rest = text.partition(":")
    params = {}
    for item in filter(None, rest.split(",")):
        k, eq, v = item.partition("=")
        params[k.strip()] = v.strip() if eq else "1"
    return name.strip(), params


def parse_config(text: str) -> dict:
    """The lab's RunConfig text form (`data=…&encoder=…&…`), with the lab's defaults for the keys
    this benchmark needs."""
    cfg = dict(kv.split("=", 1) for kv in text.strip().split("&") if kv)
    out = {"raw": text.strip()}
    out["data"] = parse_component(cfg.get("data", "cifar:size=16"))
    out["encoder"] = parse_component(cfg["encoder"])
    out["loss"] = cfg.get("loss", "nt-xent:tau=0.5")
    out["optim"] = parse_component(cfg.get("optim", "adam:lr=0.003"))
    out["aug"] = parse_component(cfg.get("aug", "simclr:crop=0.87,flip=0.5,jitter=0.4,gray=0.2"))
    out["batch"] = int(cfg.get("batch", 64))
    out["seed"] = int(cfg.get("seed", 1))
    out["normalize"] = cfg.get("normalize", "1") in ("1", "true", "on")
    out["eval"] = int(cfg.get("eval", 25))
    return out


def data_file(data) -> Path:
    name, p = data
    if name != "cifar":
        raise SystemExit(f"this benchmark needs data=cifar:…, got {name}")
    full = "-full" if p.get("set") == "full" else ""
    return ROOT / "web" / "data" / f"cifar10-{p.get('size', '16')}{full}.bin"


class Schedule:
    """src/nn/optim.rs: linear warm-up, then constant or cosine (step t is 1-based)."""

    def __init__(self, optim):
        name, p = optim
        if name != "adam" or float(p.get("wd", 0)) != 0:
            raise SystemExit(f"this benchmark implements adam without weight decay, got {name}:{p}")
        self.lr = float(p.get("lr", 1e-3))
        self.warmup = int(p.get("warmup", 0))
        self.cosine = p.get("sched", "const") == "cosine"
        self.total = int(p.get("total", 10_000))
        self.betas = (float(p.get("beta1", 0.9)), float(p.get("beta2", 0.999)))

    def __call__(self, t: int) -> float:
        if t <= self.warmup:
            return self.lr * t / self.warmup
        if not self.cosine:
            return self.lr
        frac = min(1.0, max(0.0, (t - self.warmup) / (self.total - self.warmup)))
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * frac))


# ---- the lab's SimCLR augmentation, batched -----------------------------------------------

_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]]
)
_LUMA = torch.tensor(LUMA).view(1, 3, 1, 1)
_YIQ_TO_RGB = torch.tensor([[1.0, 0.9563, 0.6210], [1.0, -0.2721, -0.6474], [1.0, -1.1070, 1.7046]])


def grey(x: torch.Tensor) -> torch.Tensor:
    """0.299 R + 0.587 G + 0.114 B per pixel: (N, 1, H, W)."""
    return (x * _LUMA).sum(1, keepdim=True)


def crop_resize(x: torch.Tensor, x0, y0, cw, ch) -> torch.Tensor:
    """augment.rs `crop_resize`: output pixel (i, j) of sample n reads source
    (y0 + (i + ½)·ch/H − ½, x0 + (j + ½)·cw/W − ½), clamped to the image, bilinearly. In
    grid_sample's normalised coordinates (align_corners=False) that is an affine map of the base
    grid; padding_mode="border" is the clamp. x0, y0, cw, ch: (N,) tensors in pixels."""
    n, c, h, w = x.shape
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = cw / w
    theta[:, 0, 2] = (2 * x0 + cw) / w - 1
    theta[:, 1, 1] = ch / h
    theta[:, 1, 2] = (2 * y0 + ch) / h - 1
    grid = F.affine_grid(theta.float(), [n, c, h, w], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def color_jitter(x: torch.Tensor, b, ct, sat, hue) -> torch.Tensor:
    """augment.rs colour jitter with the given (N,) factors: brightness, contrast about the
    image's mean grey, saturation about the per-pixel grey, hue rotation by hue·2π of YIQ's
    (I, Q) plane; clamped to [0, 1] after every step."""
    n, _, h, w = x.shape
    col = lambda v: v.view(n, 1, 1, 1)  # noqa: E731
    y = (x * col(b)).clamp(0, 1)
    m = grey(y).mean(dim=(2, 3), keepdim=True)
    y = (col(ct) * (y - m) + m).clamp(0, 1)
    gy = grey(y)
    y = (col(sat) * (y - gy) + gy).clamp(0, 1)
    ang = 2 * math.pi * hue
    rot = torch.zeros(n, 3, 3)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2] = torch.cos(ang), -torch.sin(ang)
    rot[:, 2, 1], rot[:, 2, 2] = torch.sin(ang), torch.cos(ang)
    mat = _YIQ_TO_RGB @ rot @ _RGB_TO_YIQ  # one 3×3 matrix per sample
    return torch.einsum("nij,njp->nip", mat, y.reshape(n, 3, h * w)).reshape(n, 3, h, w).clamp(0, 1)


class SimclrAug:
    """src/data/augment.rs `simclr:crop,flip,jitter,gray,noise` on a batch (N, 3, H, W) in [0, 1];
    every sample draws its own parameters."""

    def __init__(self, params: dict):
        self.crop = float(params.get("crop", 0.6))
        self.flip = float(params.get("flip", 0.5))
        self.jitter = float(params.get("jitter", 0.4))
        self.gray = float(params.get("gray", 0.2))
        self.noise = float(params.get("noise", 0.0))

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n, c, h, w = x.shape
        if c != 3:
            raise ValueError("the batched augmentation implements 3-channel images")
        rand = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
        lo = min(max(1.0 - 0.92 * self.crop, 0.01), 1.0)
        if self.crop > 0 and lo < 1.0:
            s = lo + (1.0 - lo) * rand(n).double()
            rlo = torch.clamp(s, min=0.75)
            rhi = torch.clamp(1.0 / s, max=4.0 / 3.0)
            u = rand(n).double()
            r = torch.where(rhi > rlo, torch.exp(rlo.log() + u * (rhi.log() - rlo.log())), torch.ones_like(s))
            cw = torch.clamp(w * torch.sqrt(s * r), max=float(w))
            ch = torch.clamp(h * torch.sqrt(s / r), max=float(h))
            x0 = rand(n).double() * (w - cw)
            y0 = rand(n).double() * (h - ch)
            x = crop_resize(x, x0, y0, cw, ch)
        if self.flip > 0:
            m = (rand(n) < self.flip).view(n, 1, 1, 1)
            x = torch.where(m, x.flip(3), x)
        if self.jitter > 0:
            apply = (rand(n) < 0.8).view(n, 1, 1, 1)
            sj = 0.8 * self.jitter
            b, ct, sat = ((1 - sj) + 2 * sj * rand(n) for _ in range(3))
            hue = (-0.2 + 0.4 * rand(n)) * self.jitter
            y = color_jitter(x, b, ct, sat, hue)
            x = torch.where(apply, y, x)
        if self.gray > 0:
            m = (rand(n) < self.gray).view(n, 1, 1, 1)
            x = torch.where(m, grey(x).expand(-1, 3, -1, -1), x)
        if self.noise > 0:
            x = (x + self.noise * torch.randn(x.shape, generator=g)).clamp(0, 1)
        return x.contiguous()


# ---- encoder, evaluation ------------------------------------------------------------------


def build_encoder(enc, channels: int) -> ConvEncoder:
    name, p = enc
    if name != "cnn" or "small" in p:
        raise SystemExit(f"this benchmark implements encoder=cnn:width,blocks,head,out, got {name}:{p}")
    width, blocks = int(p.get("width", 32)), int(p.get("blocks", 4))
    head, out = int(p.get("head", 256)), int(p.get("out", 64))
    model = ConvEncoder(channels, width, blocks, head, out)
    if head > 0:  # the lab's first head layer has no bias (BatchNorm follows)
        model.head[0] = nn.Linear(width << (blocks - 1), head, bias=False)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
                nn.init.uniform_(mod.weight, -math.sqrt(6 / fan_in), math.sqrt(6 / fan_in))
        if head > 0:
            lins = [m for m in model.head if isinstance(m, nn.Linear)]
            for lin, gain in zip(lins, (1.0, 1 / math.sqrt(2))):
                bound = gain * math.sqrt(6 / lin.in_features)
                nn.init.uniform_(lin.weight, -bound, bound)
                if lin.bias is not None:
                    nn.init.zeros_(lin.bias)
    return model


@torch.no_grad()
def knn_accuracy(backbone, xtr, ytr, xte, yte, classes: int, chunk: int = 1000) -> float:
    """src/analysis/probe.rs: weighted kNN, votes Σ exp(sim/T) over the k nearest (cosine)."""
    def embed(x):
        return F.normalize(torch.cat([backbone(x[i : i + chunk].float() / 255) for i in range(0, len(x), chunk)]), dim=1)

    htr, hte = embed(xtr), embed(xte)
    correct = 0
    for i in range(0, len(hte), 500):
        sims = hte[i : i + 500] @ htr.T
        top, idx = sims.topk(KNN_K, dim=1)
        votes = torch.zeros(len(top), classes, dtype=torch.float64)
        votes.scatter_add_(1, ytr[idx], torch.exp(top.double() / KNN_T))
        correct += int((votes.argmax(1) == yte[i : i + 500]).sum())
    return correct / len(hte)


def train_torch(cfg: dict, loss_spec: str, minutes: float, out: Path, quiet: bool) -> dict:
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(cfg["seed"])
    g = torch.Generator().manual_seed(cfg["seed"])
    (xtr, ytr), (xte, yte), names = load_prepared(data_file(cfg["data"]))
    model = build_encoder(cfg["encoder"], xtr.shape[1])
    aug_name, aug_p = cfg["aug"]
    if aug_name != "simclr":
        raise SystemExit(f"this benchmark implements aug=simclr, got {aug_name}")
    aug = SimclrAug(aug_p)
    sched = Schedule(cfg["optim"])
    opt = torch.optim.Adam(model.parameters(), lr=sched(1), betas=sched.betas, eps=1e-8)
    loss_fn = ContrastiveLoss(loss_spec, normalize=cfg["normalize"])
    b, budget, every = cfg["batch"], minutes * 60.0, cfg["eval"]

    def evaluate():
        t = time.perf_counter()
        model.eval()
        acc = knn_accuracy(model.backbone, xtr, ytr, xte, yte, len(names))
        model.train()
        return acc, time.perf_counter() - t

    evals, losses, times = [], [], []
    acc, eval_seconds = evaluate()
    evals.append({"step": 0, "knn_acc": acc})
    train_seconds, step, last_print = 0.0, 0, time.perf_counter()
    model.train()
    while train_seconds < budget:
        t0 = time.perf_counter()
        step += 1
        idx = torch.randperm(len(xtr), generator=g)[:b]
        x = xtr[idx].float() / 255
        views = aug(torch.cat([x, x]), g)  # rows k and k+B: two views of sample k
        for group in opt.param_groups:
            group["lr"] = sched(step)
        loss = loss_fn(model(views))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        lv = loss.item()
        train_seconds += time.perf_counter() - t0
        if not math.isfinite(lv):
            raise SystemExit(f"torch: the loss became non-finite at step {step}")
        losses.append(lv)
        times.append(train_seconds)
        if step % every == 0:
            acc, es = evaluate()
            eval_seconds += es
            evals.append({"step": step, "knn_acc": acc})
        if not quiet and time.perf_counter() - last_print > 10:
            last_print = time.perf_counter()
            print(f"  torch: step {step}  loss {lv:.5f}  knn {evals[-1]['knn_acc']:.3f}  "
                  f"{step / train_seconds:.2f} steps/s  {train_seconds:.0f}/{budget:.0f} s", file=sys.stderr, flush=True)
    if evals[-1]["step"] != step:
        acc, es = evaluate()
        eval_seconds += es
        evals.append({"step": step, "knn_acc": acc})

    out.mkdir(parents=True, exist_ok=True)
    by_step = {e["step"]: e["knn_acc"] for e in evals}
    with open(out / "metrics.csv", "w", newline="") as f:
        f.write("step,time_s,loss,knn_acc,probe_acc\n")
        for i, (lv, t) in enumerate(zip(losses, times), start=1):
            acc = f"{by_step[i]:.6f}" if i in by_step else ""
            f.write(f"{i},{t:.6f},{lv:.8f},{acc},\n")
    run = {
        "engine": "pytorch",
        "config": cfg["raw"],
        "loss": loss_fn.spec.to_text(),
        "steps": step,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "steps_per_sec": step / train_seconds,
        "final_loss": losses[-1],
        "final_knn_acc": evals[-1]["knn_acc"],
        "best_knn_acc": max(e["knn_acc"] for e in evals),
        "evals": evals,
        "num_params": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_cpu_capability": getattr(torch.backends.cpu, "get_cpu_capability", lambda: "?")(),
        "mkldnn": torch.backends.mkldnn.is_available(),
    }
    (out / "run.json").write_text(json.dumps(run, indent=2))
    return run


# ---- the lab's CLI ------------------------------------------------------------------------


def start_lab(bin_path: Path, config: Path, loss_spec: str, minutes: float, out: Path, core=None):
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(bin_path), "train", "--config", str(config), "--set", f"loss={loss_spec}",
           "--minutes", str(minutes), "--quiet", "--out", str(out)]
    log = open(out / "stderr.txt", "w")
    pre = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
    print("lab:   " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pre), log


def finish_lab(proc, log, out: Path) -> dict:
    rc = proc.wait()
    log.close()
    if rc != 0:
        raise SystemExit(f"the lab's CLI failed (exit {rc}); see {out / 'stderr.txt'}")
    return read_lab(out)


def read_lab(out: Path) -> dict:
    run = json.loads((out / "run.json").read_text())
    run["engine"] = "lab"
    return run


def step_times(metrics: Path) -> dict:
    """step → cumulative training seconds (step 0 → 0), from a metrics.csv."""
    t = {0: 0.0}
    with open(metrics) as f:
        for row in csv.DictReader(f):
            t[int(row["step"])] = float(row["time_s"])
    return t


# ---- report -------------------------------------------------------------------------------


def curve(run: dict, metrics: Path):
    t = step_times(metrics)
    return [(e["step"], t[e["step"]], e["knn_acc"]) for e in run["evals"]]


def at_time(points, t_max, steps_at):
    """The latest evaluation taken by training time t_max, and the steps done by then."""
    done = [p for p in points if p[1] <= t_max + 1e-9]
    return done[-1], steps_at(t_max)


def machine() -> str:
    model, avx512 = platform.processor() or "?", False
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name"))
        avx512 = " avx512f" in info
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {model}{' with AVX-512' if avx512 else ''}"


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError):
        return float("nan")


class LoadMonitor:
    """Samples the 1-minute load average every 5 s in a background thread, so the report can
    say whether other work shared the machine (≈ 1 when one engine runs alone, ≈ 2 with
    --parallel; more means something else was running)."""

    def __init__(self):
        import threading

        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.time(), loadavg()))
            self._stop.wait(5.0)

    def window(self, t0: float, t1: float) -> str:
        # The 1-minute average lags: skip the first 30 s of a window when it is long enough.
        vals = [v for t, v in self.samples if t0 + min(30.0, (t1 - t0) / 2) <= t <= t1]
        if not vals:
            return "?"
        return f"mean {sum(vals) / len(vals):.2f}, max {max(vals):.2f}"


def report(cfg, loss_spec, minutes, lab, torch_run, out: Path, mode: str, checkpoints: int) -> str:
    lc, tc = curve(lab, out / "lab" / "metrics.csv"), curve(torch_run, out / "torch" / "metrics.csv")
    lab_t, torch_t = step_times(out / "lab" / "metrics.csv"), step_times(out / "torch" / "metrics.csv")

    def steps_by(times):
        ordered = sorted(times.items())
        return lambda t: max(s for s, ts in ordered if ts <= t + 1e-9)

    with open(out / "curves.csv", "w", newline="") as f:
        f.write("engine,step,time_s,knn_acc\n")
        for name, pts in (("lab", lc), ("pytorch", tc)):
            for s, t, a in pts:
                f.write(f"{name},{s},{t:.3f},{a:.6f}\n")

    budget = minutes * 60.0
    rows = []
    lines = [
        f"| training time | lab: steps | lab: kNN (at step) | PyTorch: steps | PyTorch: kNN (at step) |",
        "|---|---|---|---|---|",
    ]
    for k in range(1, checkpoints + 1):
        t = budget * k / checkpoints
        final = k == checkpoints
        (ls, _, la), lsteps = (lc[-1], lab["steps"]) if final else at_time(lc, t, steps_by(lab_t))
        (ts, _, ta), tsteps = (tc[-1], torch_run["steps"]) if final else at_time(tc, t, steps_by(torch_t))
        label = f"{t / 60:g} min" + (" (end)" if final else "")
        rows.append({"minutes": t / 60, "lab_steps": lsteps, "lab_knn": la, "lab_knn_step": ls,
                     "torch_steps": tsteps, "torch_knn": ta, "torch_knn_step": ts})
        lines.append(f"| {label} | {lsteps} | {la:.3f} ({ls}) | {tsteps} | {ta:.3f} ({ts}) |")
    ratio = lab["steps_per_sec"] / torch_run["steps_per_sec"]
    lines.append(f"| **steps/s** (training time) | **{lab['steps_per_sec']:.2f}** | | **{torch_run['steps_per_sec']:.2f}** | |")
    lines.append(f"| best kNN | | {max(p[2] for p in lc):.3f} | | {max(p[2] for p in tc):.3f} |")
    time_table = "\n".join(lines)

    common = sorted(set(p[0] for p in lc) & set(p[0] for p in tc))
    lm, tm = {p[0]: p for p in lc}, {p[0]: p for p in tc}
    step_lines = ["| step | lab: kNN | lab: time (s) | PyTorch: kNN | PyTorch: time (s) |", "|---|---|---|---|---|"]
    for s in common:
        step_lines.append(f"| {s} | {lm[s][2]:.3f} | {lm[s][1]:.0f} | {tm[s][2]:.3f} | {tm[s][1]:.0f} |")
    step_table = "\n".join(step_lines)

    head = (
        f"config: {cfg['raw']}\nloss: {loss_spec}\n"
        f"machine: {machine()}; {mode}\n"
        f"1-minute load average while the lab trained: {lab.get('load', '?')}; while PyTorch trained: "
        f"{torch_run.get('load', '?')}\n"
        f"PyTorch {torch_run['torch']} ({torch_run['torch_threads']} thread, CPU capability "
        f"{torch_run['torch_cpu_capability']}, {torch_run['num_params']} parameters); lab "
        f"{lab.get('num_params', '?')} parameters\n"
        f"training time: lab {lab['train_seconds']:.1f} s, PyTorch {torch_run['train_seconds']:.1f} s "
        f"(evaluations excluded: lab {lab['eval_seconds']:.1f} s, PyTorch {torch_run['eval_seconds']:.1f} s)\n"
        f"steps/s: lab {lab['steps_per_sec']:.3f}, PyTorch {torch_run['steps_per_sec']:.3f} → lab/PyTorch = {ratio:.2f}×\n"
    )
    text = (head + "\nkNN at equal training time (latest evaluation by then):\n\n" + time_table
            + "\n\nkNN at equal steps:\n\n" + step_table + "\n")
    (out / "table.md").write_text(text)
    summary = {
        "config": cfg["raw"], "loss": loss_spec, "minutes": minutes, "machine": machine(), "mode": mode,
        "load_average": {"lab": lab.get("load"), "pytorch": torch_run.get("load")},
        "steps_per_sec": {"lab": lab["steps_per_sec"], "pytorch": torch_run["steps_per_sec"]},
        "speed_ratio_lab_over_pytorch": ratio,
        "steps": {"lab": lab["steps"], "pytorch": torch_run["steps"]},
        "train_seconds": {"lab": lab["train_seconds"], "pytorch": torch_run["train_seconds"]},
        "final_knn": {"lab": lc[-1][2], "pytorch": tc[-1][2]},
        "best_knn": {"lab": max(p[2] for p in lc), "pytorch": max(p[2] for p in tc)},
        "at_equal_time": rows,
        "curves": {"lab": [dict(zip(("step", "time_s", "knn_acc"), p)) for p in lc],
                   "pytorch": [dict(zip(("step", "time_s", "knn_acc"), p)) for p in tc]},
        "torch": {k: torch_run[k] for k in ("torch", "torch_threads", "torch_cpu_capability", "mkldnn", "num_params")},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(ROOT / "examples" / "cifar10-16px.txt"), help="the lab's run text form (file)")
    ap.add_argument("--loss", help="override the config's loss (the lab's text form)")
    ap.add_argument("--minutes", type=float, default=10.0, help="training wall time of each engine")
    ap.add_argument("--out", default=str(ROOT / "target" / "bench-pytorch"))
    ap.add_argument("--lab", action="store_true", help="also run the lab's CLI for the same minutes")
    ap.add_argument("--lab-bin", default=str(ROOT / "target" / "release" / "alphacl"))
    ap.add_argument("--lab-run", help="compare with this existing CLI --out directory instead of running the CLI")
    ap.add_argument("--parallel", action="store_true", help="run the CLI and PyTorch at the same time, one core each")
    ap.add_argument("--checkpoints", type=int, default=5, help="rows of the equal-time table")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    monitor = LoadMonitor()
    cfg = parse_config(Path(args.config).read_text())
    loss_spec = args.loss or cfg["loss"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    if args.parallel and not args.lab:
        raise SystemExit("--parallel needs --lab")
    if args.parallel and cores < 2:
        raise SystemExit("--parallel needs two cores")
    lab_dir = out / "lab"
    print(f"config: {cfg['raw']}\nloss: {loss_spec}; {args.minutes:g} min of training per engine; "
          f"machine: {machine()}", file=sys.stderr, flush=True)

    lab = None
    if args.lab and args.parallel:
        mode = (f"both engines at the same time, lab CLI pinned to core 0 and PyTorch to core 1 "
                f"(of {cores})")
        t0 = time.time()
        proc, log = start_lab(Path(args.lab_bin), Path(args.config), loss_spec, args.minutes, lab_dir, core=0)
        os.sched_setaffinity(0, {1})
        torch_run = train_torch(cfg, loss_spec, args.minutes, out / "torch", args.quiet)
        torch_run["load"] = monitor.window(t0, time.time())
        print("torch: done; waiting for the lab's CLI", file=sys.stderr, flush=True)
        lab = finish_lab(proc, log, lab_dir)
        lab["load"] = monitor.window(t0, time.time())
    else:
        mode = f"one engine after the other, single-threaded each ({cores} cores)"
        if args.lab:
            t0 = time.time()
            proc, log = start_lab(Path(args.lab_bin), Path(args.config), loss_spec, args.minutes, lab_dir)
            lab = finish_lab(proc, log, lab_dir)
            lab["load"] = monitor.window(t0, time.time())
            print(f"lab:   {lab['steps']} steps, {lab['steps_per_sec']:.2f} steps/s, final kNN "
                  f"{lab['final_knn_acc']:.3f}", file=sys.stderr, flush=True)
        print("torch: training", file=sys.stderr, flush=True)
        t0 = time.time()
        torch_run = train_torch(cfg, loss_spec, args.minutes, out / "torch", args.quiet)
        torch_run["load"] = monitor.window(t0, time.time())
    print(f"torch: {torch_run['steps']} steps, {torch_run['steps_per_sec']:.2f} steps/s, final kNN "
          f"{torch_run['final_knn_acc']:.3f}", file=sys.stderr, flush=True)
    if lab is None and args.lab_run:
        src = Path(args.lab_run)
        if src.resolve() != lab_dir.resolve():
            lab_dir.mkdir(parents=True, exist_ok=True)
            for name in ("run.json", "metrics.csv"):
                (lab_dir / name).write_bytes((src / name).read_bytes())
        lab = read_lab(lab_dir)
        mode += f"; the lab's run read from {src}"
    if lab is None:
        print(f"wrote {out / 'torch'} (no lab run to compare: pass --lab or --lab-run DIR)")
        return
    print(report(cfg, loss_spec, args.minutes, lab, torch_run, out, mode, args.checkpoints))
    print(f"wrote {out}/table.md, summary.json, curves.csv, lab/, torch/")


if __name__ == "__main__":
    main()
