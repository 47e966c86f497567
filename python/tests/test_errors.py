"""Bad specs raise ValueError with the CLI's own message; malformed batches give clear errors."""

import math

import pytest
import torch

from alphacl_torch import ContrastiveLoss, parse_spec
from conftest import cli_error, run_cli

BAD_SPECS = [
    "infonse",
    "",
    "   ",
    ":tau=1",
    "mine:tau=1",
    "infonce:foo=1",
    "infonce:tau",
    "infonce:tau=",
    "infonce:=0.5",
    "infonce:tau=1,tau=2",
    "infonce:tau=0",
    "infonce:tau=-0.5",
    "infonce:tau=abc",
    "infonce:tau=1_0",
    "infonce:tau=0x10",
    "infonce:tau=NaN",
    "infonce:tau=inf",
    "infonce:eps=-1e-5",
    "acl-inverse:k=-1",
    "acl-direct:p=0",
    "acl-quadratic:tau=1e-400",
    "modified-triplet:c=-2",
    "soft-triplet:eps=-infinity",
    "Triplet:EPS=-0.25",
    "nt-xent:tau=0.5,eps=1",
]


@pytest.mark.parametrize("spec", BAD_SPECS)
def test_bad_spec_message_equals_the_cli(spec):
    want = cli_error(spec)
    with pytest.raises(ValueError) as e:
        ContrastiveLoss(spec)
    assert str(e.value) == want


GOOD_SPECS = [
    "NT-Xent: TAU=0.25",
    " acl-direct:tau=0.5, p=3 ,eps=0.001 ",
    "acl-inverse:k=2",
    "infonce:tau=1e-3,",
    "lifted:eps=-0.5",
    "soft-triplet:tau=+2.5,eps=.5",
    "triplet:eps=5.",
    "tuplet",
    "acl-quadratic:tau=0.00015",
]


@pytest.mark.parametrize("spec", GOOD_SPECS)
def test_good_spec_text_form_equals_the_cli(spec):
    # The CLI's readable summary starts with the spec it parsed, written out in full.
    out = run_cli("loss", "--stdin", "--loss", spec, stdin="1,0\n0,1\n1,1\n1,-1\n")
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("loss ")
    assert parse_spec(spec).to_text() == first[len("loss "):].split("  (")[0]


def test_spec_must_be_text():
    with pytest.raises(TypeError):
        ContrastiveLoss(0.5)


def _views(b=4, d=3):
    g = torch.Generator().manual_seed(0)
    return torch.randn(b, d, generator=g, dtype=torch.float64), torch.randn(
        b, d, generator=g, dtype=torch.float64
    )


def test_mismatched_views():
    z1, z2 = _views()
    with pytest.raises(ValueError, match="same shape"):
        ContrastiveLoss("nt-xent")(z1, z2[:3])
    with pytest.raises(ValueError, match="same shape"):
        ContrastiveLoss("nt-xent")(z1, torch.randn(4, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="2-D"):
        ContrastiveLoss("nt-xent")(z1.reshape(-1), z2.reshape(-1))
    with pytest.raises(ValueError, match="dtype and device"):
        ContrastiveLoss("nt-xent")(z1, z2.float())
    with pytest.raises(TypeError, match="floating point"):
        ContrastiveLoss("nt-xent")(z1.long(), z2.long())


def test_odd_stacked_layout():
    y = torch.randn(7, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="even number of rows"):
        ContrastiveLoss("nt-xent")(y)
    with pytest.raises(ValueError, match="even number of rows"):
        ContrastiveLoss("nt-xent").alpha_beta(y)


def test_too_small_batch():
    z1, z2 = _views(1, 3)
    with pytest.raises(ValueError, match="at least 2 pairs"):
        ContrastiveLoss("acl-quadratic")(z1, z2)
    with pytest.raises(ValueError, match="zero dimensions"):
        ContrastiveLoss("nt-xent")(torch.zeros(4, 0), torch.zeros(4, 0))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_inputs(bad):
    z1, z2 = _views()
    z2[2, 1] = bad
    for normalize in (True, False):
        with pytest.raises(ValueError, match="non-finite"):
            ContrastiveLoss("acl-direct", normalize=normalize)(z1, z2)
        with pytest.raises(ValueError, match="non-finite"):
            ContrastiveLoss("infonce", normalize=normalize).alpha_beta(z1, z2)


def test_zero_row_cannot_be_normalised():
    z1, z2 = _views()
    z2[1] = 0.0
    with pytest.raises(ValueError, match="row 5 has zero norm"):
        ContrastiveLoss("nt-xent")(z1, z2)
    # Without normalisation a zero row is an ordinary point.
    assert math.isfinite(float(ContrastiveLoss("nt-xent", normalize=False)(z1, z2)))


def test_gather_without_process_group():
    z1, z2 = _views()
    with pytest.raises(RuntimeError, match="init_process_group"):
        ContrastiveLoss("nt-xent", gather=True)(z1, z2)
