"""Every catalogue loss equals the lab's reference calculator: value, ∂L/∂(raw embeddings)
by autograd, α and β, in float64, for several batch sizes and dimensions, normalisation on and
off. The specs come from the Rust catalogue (`alphacl loss --catalogue --json`), so a loss added
to the lab cannot be forgotten here."""

import pytest
import torch

import alphacl_torch
from alphacl_torch import ContrastiveLoss, parse_spec
from conftest import close, reference, run_cli, rust_catalogue

SHAPES_DEFAULT = [(2, 3), (5, 8), (16, 32)]
SHAPE_VARIANT = (6, 5)
SHAPE_LARGE = (100, 12)  # 200 rows: the Rust engine's blocked Gram path


def _fmt(x: float) -> str:
    return repr(float(x))


def cases():
    """(spec text, B, d, normalize) for every default spec and every parameter at both ends
    of its slider range (others at their defaults)."""
    out = []
    for entry in rust_catalogue():
        spec = entry["spec"]
        for b, d in SHAPES_DEFAULT:
            for normalize in (True, False):
                out.append((spec, b, d, normalize))
        out.append((spec, *SHAPE_LARGE, True))
        for p in entry["params"]:
            for end in p["slider"]:
                others = [f"{q['key']}={_fmt(q['default'])}" for q in entry["params"] if q is not p]
                text = f"{entry['name']}:" + ",".join([f"{p['key']}={_fmt(end)}", *others])
                for normalize in (True, False):
                    out.append((text, *SHAPE_VARIANT, normalize))
    return out


def _id(case):
    spec, b, d, normalize = case
    return f"{spec}|B={b},d={d}|{'norm' if normalize else 'raw'}"


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cs = cases()
        metafunc.parametrize("case", cs, ids=[_id(c) for c in cs])


def _batch(b: int, d: int, normalize: bool, seed: int):
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(b, d, generator=g, dtype=torch.float64)
    # Second view: a noisy copy, so positives are closer than most negatives (as in training)
    # but some negatives fall inside the triplet margin.
    z2 = z1 + 2.0 * torch.randn(b, d, generator=g, dtype=torch.float64)
    if not normalize:
        # Raw rows: keep distances O(1) so no row's weights vanish entirely.
        z1, z2 = z1 / d**0.5, z2 / d**0.5
    return z1.requires_grad_(True), z2.requires_grad_(True)


def test_conformance(case):
    spec, b, d, normalize = case
    seed = sum(ord(c) for c in _id(case))
    z1, z2 = _batch(b, d, normalize, seed)
    want = reference(torch.cat([z1, z2]).detach(), spec, normalize)

    loss_fn = ContrastiveLoss(spec, normalize=normalize)
    loss = loss_fn(z1, z2)
    assert loss.dtype == torch.float64
    loss.backward()
    grad = torch.cat([z1.grad, z2.grad])
    alpha, beta = loss_fn.alpha_beta(z1, z2)

    close(loss, want["loss"])
    close(grad, want["grad"])
    close(alpha, want["alpha"])
    close(beta, want["beta"])
    if b >= 16:
        # Not vacuous: on a batch this size every loss puts weight on some negative.
        assert float(want["beta"].abs().max()) > 0
        assert float(want["grad"].abs().max()) > 0


def test_catalogue_equals_the_rust_catalogue():
    rust = rust_catalogue()
    assert [e["name"] for e in rust] == [i.name for i in alphacl_torch.LOSSES]
    for entry, info in zip(rust, alphacl_torch.LOSSES):
        assert parse_spec(entry["name"]).to_text() == entry["spec"]
        assert [p["key"] for p in entry["params"]] == [p.key for p in info.params]
        assert [p["default"] for p in entry["params"]] == [p.default for p in info.params]
        assert [p["range"] for p in entry["params"]] == [p.range.describe() for p in info.params]


def test_plain_catalogue_lists_the_default_specs():
    out = run_cli("loss", "--catalogue")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [e["spec"] for e in rust_catalogue()]


def test_stacked_layout_equals_two_views():
    z1, z2 = _batch(4, 6, True, 7)
    loss_fn = ContrastiveLoss("acl-direct:tau=0.5,p=4,eps=0")
    two = loss_fn(z1, z2)
    stacked = loss_fn(torch.cat([z1, z2]))
    assert two.item() == pytest.approx(stacked.item(), rel=1e-15)
    a1, b1 = loss_fn.alpha_beta(z1, z2)
    a2, b2 = loss_fn.alpha_beta(torch.cat([z1, z2]))
    assert torch.equal(a1, a2) and torch.equal(b1, b2)


def test_min_player_alpha_is_detached():
    # With α held fixed the loss is linear in d²: its gradient is −(1/2B)∂E_α/∂z, which the
    # conformance test checks; here: no gradient flows into α itself.
    z1, z2 = _batch(4, 3, True, 3)
    loss_fn = ContrastiveLoss("acl-entropy:tau=0.5")
    alpha, _ = loss_fn.alpha_beta(z1, z2)
    assert not alpha.requires_grad


def test_float32_is_close_to_float64():
    z1, z2 = _batch(8, 16, True, 5)
    for spec in ["nt-xent:tau=0.1", "acl-quadratic:tau=0.2", "acl-inverse:tau=0.5,p=2,k=2"]:
        loss_fn = ContrastiveLoss(spec)
        l64 = loss_fn(z1, z2)
        l32 = loss_fn(z1.detach().float(), z2.detach().float())
        assert l32.dtype == torch.float32
        assert l32.item() == pytest.approx(l64.item(), rel=1e-4, abs=1e-6)


def test_small_tau_stays_finite_and_matches():
    # τ = 1e-3: exp(1/τ) overflows without the log-domain stabilisation.
    z1, z2 = _batch(6, 4, True, 9)
    for spec in ["infonce:tau=0.001,eps=1", "acl-direct:tau=0.001,p=4,eps=0.5", "soft-triplet:tau=0.001,eps=0.5"]:
        want = reference(torch.cat([z1, z2]).detach(), spec, True)
        loss_fn = ContrastiveLoss(spec)
        z1.grad = z2.grad = None
        loss = loss_fn(z1, z2)
        loss.backward()
        close(loss, want["loss"])
        close(torch.cat([z1.grad, z2.grad]), want["grad"])
        close(loss_fn.alpha_beta(z1, z2)[0], want["alpha"])
