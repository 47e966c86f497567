"""Shared helpers: the lab's reference calculator (`alphacl loss --json`) as the oracle.

The binary is `$ALPHACL_BIN`, else `target/release/alphacl` of this repository
(`cargo build --release --bin alphacl`; scripts/test.sh builds it before running pytest).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


def alphacl_bin() -> str:
    path = os.environ.get("ALPHACL_BIN") or str(REPO / "target" / "release" / "alphacl")
    if not Path(path).is_file():
        raise RuntimeError(
            f"the reference calculator {path} is missing: run `cargo build --release --bin alphacl` "
            "or set ALPHACL_BIN"
        )
    return path


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, RUST_BACKTRACE="0")
    return subprocess.run(
        [alphacl_bin(), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def rust_catalogue():
    out = run_cli("loss", "--catalogue", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def to_csv(y: torch.Tensor) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in y.tolist()) + "\n"


def reference(y: torch.Tensor, spec: str, normalize: bool) -> dict:
    """`alphacl loss --json` on the stacked batch y (2B × d)."""
    args = ["loss", "--stdin", "--loss", spec, "--json"]
    if not normalize:
        args.append("--no-normalize")
    out = run_cli(*args, stdin=to_csv(y))
    assert out.returncode == 0, f"alphacl loss failed on {spec}: {out.stderr}"
    v = json.loads(out.stdout)
    return {
        "loss": torch.tensor(v["loss"], dtype=torch.float64),
        "grad": torch.tensor(v["grad"], dtype=torch.float64),
        "alpha": torch.tensor(v["alpha"], dtype=torch.float64),
        "beta": torch.tensor(v["beta"], dtype=torch.float64),
    }


def cli_error(spec: str) -> str:
    """The message of the CLI's error for a bad --loss spec (without the 'Error: --loss: ')."""
    out = run_cli("loss", "--stdin", "--loss", spec, "--json", stdin="1,0\n0,1\n1,1\n1,-1\n")
    assert out.returncode != 0, f"the CLI accepted {spec!r}"
    first = out.stderr.strip().splitlines()[0]
    prefix = "Error: --loss: "
    assert first.startswith(prefix), out.stderr
    return first[len(prefix):]


def close(got: torch.Tensor, want: torch.Tensor, rel: float = 1e-6) -> None:
    """|got − want| ≤ rel·(|want| + max|want|·1e-3) entry-wise: relative 1e-6, with entries
    far below the array's scale (e.g. cancelled gradient components) compared at that scale."""
    got = got.detach().to(torch.float64).cpu()
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = float(want.abs().max()) if want.numel() else 0.0
    tol = rel * (want.abs() + 1e-3 * scale)
    err = (got - want).abs()
    assert bool((err <= tol).all()), (
        f"max error {float(err.max()):.3e} (max |want| {scale:.3e}); "
        f"worst at {tuple(int(i) for i in torch.nonzero(err - tol == (err - tol).max())[0])}"
    )


@pytest.fixture(scope="session")
def catalogue():
    return rust_catalogue()
