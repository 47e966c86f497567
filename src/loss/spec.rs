//! [`LossSpec`]: which loss, with which hyper-parameters — and its text form.
//!
//! Text form (one parser for CLI, URL and files): `name:key=value,...`, for example
//! `infonce:tau=0.5,eps=1`, `acl-direct:tau=0.5,p=4,eps=0`, `triplet:eps=0.1`, `tuplet`.
//! Every loss is described by a static [`LossInfo`] (display name, group, formula, paper
//! reference, parameters with defaults, ranges and slider hints), so the UI builds its controls
//! from the catalogue instead of knowing each loss.
//!
//! **Parse → check → valid.** [`LossSpec`] is the editable form (the text form's values, which
//! the UI's sliders change); [`LossSpec::check`] is the one place that tests each value against
//! its range and turns the spec into a [`ValidLoss`]: typed parameters ([`LossParams`], one
//! variant with named fields per loss) that the per-step code uses without checking again.
//! A failed check is a typed [`LossParamError`] naming the parameter and its allowed range.
//! [`LossSpec::parse`] reads the text and then runs the same check.

use super::family::{Phi, Psi};
use super::min_player::Rule;
use crate::spec::{Range, SpecError, SpecText, fmt_num, format_spec};

/// Every loss the lab knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LossKind {
    /// Standard SimCLR NT-Xent (positive in the denominator), for comparison with libraries.
    NtXent,
    /// InfoNCE row of the family: φ = τ log(ε + x), ψ = exp(x/τ).
    InfoNce,
    /// MINE: φ = log x, ψ = exp x.
    Mine,
    /// Triplet: φ = x, ψ = [x + ε]₊.
    Triplet,
    /// Soft triplet: φ = τ log(1 + x), ψ = exp(x/τ + ε).
    SoftTriplet,
    /// N+1 tuplet: φ = log(1 + x), ψ = exp x.
    Tuplet,
    /// Lifted structured: φ = [log x]²₊, ψ = exp(x + ε).
    Lifted,
    /// Modified triplet: φ = x, ψ = sigmoid(c x).
    ModifiedTriplet,
    /// Triplet contrastive: φ = x, ψ = x.
    TripletContrastive,
    /// α-CL, entropy-regularised min player: α = softmax(−d²/τ).
    AclEntropy,
    /// α-CL, quadratic (ℓ2) regulariser: α = simplex projection of −d²/τ (sparse).
    AclQuadratic,
    /// α-CL, direct construction: α ∝ exp(−d^p/τ).
    AclDirect,
    /// α-CL, inverse construction: α ∝ (d^p + τ)^(−k).
    AclInverse,
}

/// Which column of the control panel a loss belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossGroup {
    /// A row of the L_{φ,ψ} table (α from Theorem 1).
    Family,
    /// An α-CL min player (α from an explicit rule; loss = −E_α/2B with α detached).
    MinPlayer,
    /// Reference losses as common libraries define them.
    Reference,
}

/// A hyper-parameter of a loss.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    /// Key in the text form.
    pub key: &'static str,
    /// Symbol for the UI (e.g. "τ").
    pub symbol: &'static str,
    /// Default value.
    pub default: f64,
    /// Admissible values.
    pub range: Range,
    /// Slider range for the UI (inside `range`).
    pub slider: (f64, f64),
    /// Whether the slider should be logarithmic.
    pub log_scale: bool,
    /// One line of explanation.
    pub help: &'static str,
}

/// Static description of a loss.
#[derive(Debug, Clone, Copy)]
pub struct LossInfo {
    /// Which loss.
    pub kind: LossKind,
    /// Name in the text form.
    pub name: &'static str,
    /// Name for people.
    pub display: &'static str,
    /// Panel group.
    pub group: LossGroup,
    /// Parameters in text-form order.
    pub params: &'static [ParamInfo],
    /// The formula (φ and ψ, or the α rule), as plain text.
    pub formula: &'static str,
    /// Where it comes from.
    pub reference: &'static str,
    /// One line for hover help.
    pub help: &'static str,
}

const TAU: ParamInfo = ParamInfo {
    key: "tau",
    symbol: "τ",
    default: 0.5,
    range: Range::Above(0.0),
    slider: (0.01, 10.0),
    log_scale: true,
    help: "temperature: smaller τ concentrates α on the hardest (closest) negatives",
};
const EPS_INFONCE: ParamInfo = ParamInfo {
    key: "eps",
    symbol: "ε",
    default: 1.0,
    range: Range::AtLeast(0.0),
    slider: (0.0, 2.0),
    log_scale: false,
    help: "weight of the positive in the denominator (1 = SimCLR/InfoNCE, 0 = decoupled)",
};
const EPS_ACL: ParamInfo = ParamInfo {
    key: "eps",
    symbol: "ε",
    default: 0.0,
    range: Range::AtLeast(0.0),
    slider: (0.0, 1.0),
    log_scale: false,
    help: "row normalisation slack: α_ij = w_ij / (Σ_k w_ik + ε·(2B−2)); 0 makes rows sum to 1",
};
const EPS_MARGIN: ParamInfo = ParamInfo {
    key: "eps",
    symbol: "ε",
    default: 0.1,
    range: Range::AtLeast(0.0),
    slider: (0.0, 1.0),
    log_scale: false,
    help: "margin ε",
};
const EPS_SHIFT: ParamInfo = ParamInfo {
    key: "eps",
    symbol: "ε",
    default: 0.0,
    range: Range::Any,
    slider: (-1.0, 1.0),
    log_scale: false,
    help: "shift ε inside the exponential",
};
const P_EXP: ParamInfo = ParamInfo {
    key: "p",
    symbol: "p",
    default: 4.0,
    range: Range::Above(0.0),
    slider: (0.5, 8.0),
    log_scale: false,
    help: "distance power: d^p = (d²)^(p/2); larger p focuses α on close negatives (p = 2 is InfoNCE's α)",
};
const P_INV: ParamInfo = ParamInfo {
    key: "p",
    symbol: "p",
    default: 2.0,
    range: Range::Above(0.0),
    slider: (0.5, 8.0),
    log_scale: false,
    help: "distance power: d^p = (d²)^(p/2)",
};
const K_INV: ParamInfo = ParamInfo {
    key: "k",
    symbol: "k",
    default: 1.0,
    range: Range::Above(0.0),
    slider: (0.1, 8.0),
    log_scale: false,
    help: "inverse exponent k: α ∝ (d^p + τ)^(−k)",
};
const C_SIG: ParamInfo = ParamInfo {
    key: "c",
    symbol: "c",
    default: 1.0,
    range: Range::Above(0.0),
    slider: (0.1, 20.0),
    log_scale: true,
    help: "sigmoid sharpness c",
};

/// The catalogue, in panel order.
pub const LOSSES: &[LossInfo] = &[
    LossInfo {
        kind: LossKind::InfoNce,
        name: "infonce",
        display: "InfoNCE",
        group: LossGroup::Family,
        params: &[TAU, EPS_INFONCE],
        formula: "φ(x) = τ·log(ε + x),  ψ(x) = exp(x/τ)",
        reference: "Oord et al. 2018; Tian 2022 Fig. 1",
        help: "the SimCLR/CPC loss written as a (φ, ψ) row; ε = 1 gives τ × NT-Xent",
    },
    LossInfo {
        kind: LossKind::Mine,
        name: "mine",
        display: "MINE",
        group: LossGroup::Family,
        params: &[],
        formula: "φ(x) = log(x),  ψ(x) = exp(x)",
        reference: "Belghazi et al. 2018; Tian 2022 Fig. 1",
        help: "mutual information neural estimation, as a (φ, ψ) row",
    },
    LossInfo {
        kind: LossKind::Triplet,
        name: "triplet",
        display: "Triplet",
        group: LossGroup::Family,
        params: &[EPS_MARGIN],
        formula: "φ(x) = x,  ψ(x) = [x + ε]₊",
        reference: "Schroff et al. 2015; Tian 2022 Fig. 1",
        help: "hinge on d²_i − d²_ij + ε: only negatives inside the margin get weight",
    },
    LossInfo {
        kind: LossKind::SoftTriplet,
        name: "soft-triplet",
        display: "Soft triplet",
        group: LossGroup::Family,
        params: &[TAU, EPS_SHIFT],
        formula: "φ(x) = τ·log(1 + x),  ψ(x) = exp(x/τ + ε)",
        reference: "Tian 2022 Fig. 1",
        help: "a smooth triplet loss",
    },
    LossInfo {
        kind: LossKind::Tuplet,
        name: "tuplet",
        display: "N+1 tuplet",
        group: LossGroup::Family,
        params: &[],
        formula: "φ(x) = log(1 + x),  ψ(x) = exp(x)",
        reference: "Sohn 2016; Tian 2022 Fig. 1",
        help: "N-pair loss: InfoNCE with τ = 1",
    },
    LossInfo {
        kind: LossKind::Lifted,
        name: "lifted",
        display: "Lifted structured",
        group: LossGroup::Family,
        params: &[EPS_SHIFT],
        formula: "φ(x) = [log(x)]²₊,  ψ(x) = exp(x + ε)",
        reference: "Oh Song et al. 2016; Tian 2022 Fig. 1",
        help: "lifted structured embedding loss",
    },
    LossInfo {
        kind: LossKind::ModifiedTriplet,
        name: "modified-triplet",
        display: "Modified triplet",
        group: LossGroup::Family,
        params: &[C_SIG],
        formula: "φ(x) = x,  ψ(x) = sigmoid(c·x)",
        reference: "Coria et al. 2020 Eqn. 10; Tian 2022 Fig. 1",
        help: "triplet with a sigmoid instead of a hinge",
    },
    LossInfo {
        kind: LossKind::TripletContrastive,
        name: "triplet-contrastive",
        display: "Triplet contrastive",
        group: LossGroup::Family,
        params: &[],
        formula: "φ(x) = x,  ψ(x) = x",
        reference: "Ji et al. 2021 Eqn. 2; Tian 2022 Fig. 1",
        help: "linear in the distances: every negative gets α = 1",
    },
    LossInfo {
        kind: LossKind::AclEntropy,
        name: "acl-entropy",
        display: "α-CL entropy",
        group: LossGroup::MinPlayer,
        params: &[TAU, EPS_ACL],
        formula: "α = argmin E_α − τ·H(α):  α_ij ∝ exp(−d²_ij/τ)",
        reference: "Tian 2022 §4 (α-CL-r-H)",
        help: "entropy-regularised min player: InfoNCE's α with ε = 0",
    },
    LossInfo {
        kind: LossKind::AclQuadratic,
        name: "acl-quadratic",
        display: "α-CL quadratic (sparse)",
        group: LossGroup::MinPlayer,
        params: &[TAU, EPS_ACL],
        formula: "α = argmin E_α + (τ/2)‖α‖²:  α_ij = [μ_i − d²_ij]₊/τ",
        reference: "Tian 2022 §4",
        help: "ℓ2-regularised min player: exact simplex projection, only near negatives get weight",
    },
    LossInfo {
        kind: LossKind::AclDirect,
        name: "acl-direct",
        display: "α-CL direct",
        group: LossGroup::MinPlayer,
        params: &[TAU, P_EXP, EPS_ACL],
        formula: "α_ij ∝ exp(−d^p_ij/τ)",
        reference: "Tian 2022 §4 (α-CL-direct)",
        help: "direct construction of α; p = 4 is the paper's CIFAR setting",
    },
    LossInfo {
        kind: LossKind::AclInverse,
        name: "acl-inverse",
        display: "α-CL inverse",
        group: LossGroup::MinPlayer,
        params: &[TAU, P_INV, K_INV, EPS_ACL],
        formula: "α_ij ∝ (d^p_ij + τ)^(−k)",
        reference: "official α-CL code (alpha_type=inverse)",
        help: "heavy-tailed weights: closer negatives weigh more, polynomially",
    },
    LossInfo {
        kind: LossKind::NtXent,
        name: "nt-xent",
        display: "NT-Xent (SimCLR)",
        group: LossGroup::Reference,
        params: &[TAU],
        formula: "−log( e^{s_ii'/τ} / (e^{s_ii'/τ} + Σ_j e^{s_ij/τ}) ),  s = 1 − d²",
        reference: "Chen et al. 2020 (SimCLR)",
        help: "the standard SimCLR loss; equals infonce:eps=1 divided by τ",
    },
];

/// A loss and its hyper-parameter values (aligned with `info().params`).
#[derive(Debug, Clone, PartialEq)]
pub struct LossSpec {
    /// Which loss.
    pub kind: LossKind,
    /// Parameter values, in the order of the catalogue entry's `params`.
    pub values: Vec<f64>,
}

impl Default for LossSpec {
    fn default() -> Self {
        Self::defaults(LossKind::NtXent)
    }
}

impl LossSpec {
    /// The catalogue entry of a kind.
    pub fn info_of(kind: LossKind) -> &'static LossInfo {
        LOSSES
            .iter()
            .find(|l| l.kind == kind)
            .unwrap_or(&LOSSES[LOSSES.len() - 1])
    }

    /// This spec's catalogue entry.
    pub fn info(&self) -> &'static LossInfo {
        Self::info_of(self.kind)
    }

    /// A spec with default parameters.
    pub fn defaults(kind: LossKind) -> Self {
        Self {
            kind,
            values: Self::info_of(kind)
                .params
                .iter()
                .map(|p| p.default)
                .collect(),
        }
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        let info = LOSSES.iter().find(|l| l.name == st.name).ok_or_else(|| {
            let names: Vec<&str> = LOSSES.iter().map(|l| l.name).collect();
            SpecError::new(format!(
                "unknown loss '{}' (known: {})",
                crate::spec::clip(&st.name),
                names.join(", ")
            ))
        })?;
        let keys: Vec<&'static str> = info.params.iter().map(|p| p.key).collect();
        let params = st.params(&keys)?;
        let values = info
            .params
            .iter()
            .map(|p| params.number(p.key, p.default))
            .collect::<Result<Vec<_>, _>>()?;
        let spec = Self {
            kind: info.kind,
            values,
        };
        spec.check()?;
        Ok(spec)
    }

    /// Checks every value against its range and returns the typed parameters: the only
    /// check a loss needs (the fields are public, so a spec built by hand may hold anything).
    pub fn check(&self) -> Result<ValidLoss, LossParamError> {
        let info = self.info();
        if self.values.len() != info.params.len() {
            return Err(LossParamError::Arity {
                loss: info.name,
                expected: info.params.len(),
                got: self.values.len(),
            });
        }
        for (p, &got) in info.params.iter().zip(&self.values) {
            if !p.range.check_value(got) {
                return Err(LossParamError::OutOfRange {
                    loss: info.name,
                    key: p.key,
                    range: p.range,
                    got,
                });
            }
        }
        let params =
            LossParams::from_checked(self.kind, &self.values).ok_or(LossParamError::Arity {
                loss: info.name,
                expected: info.params.len(),
                got: self.values.len(),
            })?;
        Ok(ValidLoss {
            spec: self.clone(),
            params,
        })
    }

    /// The text form (all parameters written out).
    pub fn to_text(&self) -> String {
        let info = self.info();
        let pairs: Vec<(&str, String)> = info
            .params
            .iter()
            .zip(&self.values)
            .map(|(p, &v)| (p.key, fmt_num(v)))
            .collect();
        format_spec(info.name, &pairs)
    }

    /// The value of a parameter, or `None` if this loss has no such key (for the UI and
    /// tests; the loss itself reads [`LossParams`]).
    pub fn get(&self, key: &str) -> Option<f64> {
        self.info()
            .params
            .iter()
            .zip(&self.values)
            .find(|(p, _)| p.key == key)
            .map(|(_, &v)| v)
    }

    /// Sets a parameter, rejecting values outside its range.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), SpecError> {
        let info = self.info();
        let idx = info
            .params
            .iter()
            .position(|p| p.key == key)
            .ok_or_else(|| SpecError::new(format!("'{}' has no parameter '{key}'", info.name)))?;
        let p = &info.params[idx];
        if !p.range.check_value(value) {
            return Err(LossParamError::OutOfRange {
                loss: info.name,
                key: p.key,
                range: p.range,
                got: value,
            }
            .into());
        }
        self.values[idx] = value;
        Ok(())
    }

    /// Switches to another loss, keeping the values of parameters both share (e.g. τ).
    pub fn switch_to(&self, kind: LossKind) -> Self {
        let mut next = Self::defaults(kind);
        let info = next.info();
        for (i, p) in info.params.iter().enumerate() {
            if let Some(v) = self.get(p.key)
                && p.range.check_value(v)
                && p.key != "eps"
            {
                next.values[i] = v;
            }
        }
        next
    }
}

/// Why a loss spec's values cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossParamError {
    /// A value outside its parameter's range.
    #[error("parameter '{key}' of '{loss}' must be {}, got {got}", range.describe())]
    OutOfRange {
        /// The loss's name in the text form.
        loss: &'static str,
        /// The parameter's key.
        key: &'static str,
        /// What is allowed.
        range: Range,
        /// The value given.
        got: f64,
    },
    /// A hand-built spec with the wrong number of values.
    #[error("'{loss}' takes {expected} parameter(s), the spec holds {got}")]
    Arity {
        /// The loss's name in the text form.
        loss: &'static str,
        /// How many values the catalogue lists.
        expected: usize,
        /// How many the spec holds.
        got: usize,
    },
}

impl From<LossParamError> for SpecError {
    fn from(e: LossParamError) -> Self {
        SpecError::new(e.to_string())
    }
}

/// The typed, checked hyper-parameters of each loss (the paper's symbols).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LossParams {
    /// NT-Xent with temperature τ > 0.
    NtXent {
        /// Temperature τ > 0.
        tau: f64,
    },
    /// InfoNCE row: φ = τ log(ε + x), ψ = exp(x/τ).
    InfoNce {
        /// Temperature τ > 0.
        tau: f64,
        /// Weight of the positive in the denominator, ε ≥ 0.
        eps: f64,
    },
    /// MINE (no parameters).
    Mine,
    /// Triplet: ψ = [x + ε]₊.
    Triplet {
        /// Margin ε ≥ 0.
        margin: f64,
    },
    /// Soft triplet: φ = τ log(1 + x), ψ = exp(x/τ + ε).
    SoftTriplet {
        /// Temperature τ > 0.
        tau: f64,
        /// Shift ε (any finite number).
        shift: f64,
    },
    /// N+1 tuplet (no parameters).
    Tuplet,
    /// Lifted structured: ψ = exp(x + ε).
    Lifted {
        /// Shift ε (any finite number).
        shift: f64,
    },
    /// Modified triplet: ψ = sigmoid(c x).
    ModifiedTriplet {
        /// Sharpness c > 0.
        c: f64,
    },
    /// Triplet contrastive (no parameters).
    TripletContrastive,
    /// An α-CL min player: its rule and the row-normalisation slack ε ≥ 0.
    MinPlayer {
        /// The raw-weight rule with its parameters.
        rule: Rule,
        /// Row-normalisation slack ε ≥ 0.
        eps: f64,
    },
}

impl LossParams {
    /// The typed parameters of `kind` from values in catalogue order, already range-checked;
    /// `None` when the number of values does not match the catalogue.
    fn from_checked(kind: LossKind, v: &[f64]) -> Option<Self> {
        use LossKind as K;
        Some(match (kind, v) {
            (K::NtXent, &[tau]) => Self::NtXent { tau },
            (K::InfoNce, &[tau, eps]) => Self::InfoNce { tau, eps },
            (K::Mine, &[]) => Self::Mine,
            (K::Triplet, &[margin]) => Self::Triplet { margin },
            (K::SoftTriplet, &[tau, shift]) => Self::SoftTriplet { tau, shift },
            (K::Tuplet, &[]) => Self::Tuplet,
            (K::Lifted, &[shift]) => Self::Lifted { shift },
            (K::ModifiedTriplet, &[c]) => Self::ModifiedTriplet { c },
            (K::TripletContrastive, &[]) => Self::TripletContrastive,
            (K::AclEntropy, &[tau, eps]) => Self::MinPlayer {
                rule: Rule::Entropy { tau },
                eps,
            },
            (K::AclQuadratic, &[tau, eps]) => Self::MinPlayer {
                rule: Rule::Quadratic { tau },
                eps,
            },
            (K::AclDirect, &[tau, p, eps]) => Self::MinPlayer {
                rule: Rule::Direct { tau, p },
                eps,
            },
            (K::AclInverse, &[tau, p, k, eps]) => Self::MinPlayer {
                rule: Rule::Inverse { tau, p, k },
                eps,
            },
            _ => return None,
        })
    }

    /// What the loss engine evaluates: a (φ, ψ) row of the family (Tian 2022 Fig. 1) or a
    /// min player's rule.
    pub fn form(self) -> LossForm {
        let (phi, psi) = match self {
            Self::NtXent { tau } => (
                Phi::Log { s: 1.0, eps: 1.0 },
                Psi::Exp {
                    a: 1.0 / tau,
                    b: 0.0,
                },
            ),
            Self::InfoNce { tau, eps } => (
                Phi::Log { s: tau, eps },
                Psi::Exp {
                    a: 1.0 / tau,
                    b: 0.0,
                },
            ),
            Self::Mine => (Phi::Log { s: 1.0, eps: 0.0 }, Psi::Exp { a: 1.0, b: 0.0 }),
            Self::Triplet { margin } => (Phi::Identity, Psi::Hinge { eps: margin }),
            Self::SoftTriplet { tau, shift } => (
                Phi::Log { s: tau, eps: 1.0 },
                Psi::Exp {
                    a: 1.0 / tau,
                    b: shift,
                },
            ),
            Self::Tuplet => (Phi::Log { s: 1.0, eps: 1.0 }, Psi::Exp { a: 1.0, b: 0.0 }),
            Self::Lifted { shift } => (Phi::LogSqPlus, Psi::Exp { a: 1.0, b: shift }),
            Self::ModifiedTriplet { c } => (Phi::Identity, Psi::Sigmoid { c }),
            Self::TripletContrastive => (Phi::Identity, Psi::Identity),
            Self::MinPlayer { rule, eps } => return LossForm::MinPlayer { rule, eps },
        };
        LossForm::Family { phi, psi }
    }

    /// The (φ, ψ) row of a family loss, or `None` for α-CL min players.
    pub fn family_row(self) -> Option<(Phi, Psi)> {
        match self.form() {
            LossForm::Family { phi, psi } => Some((phi, psi)),
            LossForm::MinPlayer { .. } => None,
        }
    }
}

/// The two shapes a loss takes in the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LossForm {
    /// A row of L_{φ,ψ}; α from Theorem 1.
    Family {
        /// Outer function φ.
        phi: Phi,
        /// Inner function ψ.
        psi: Psi,
    },
    /// An α-CL min player with row-normalisation slack ε.
    MinPlayer {
        /// The raw-weight rule.
        rule: Rule,
        /// Slack ε ≥ 0.
        eps: f64,
    },
}

/// A loss whose parameters passed [`LossSpec::check`]: what the loss engine evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLoss {
    spec: LossSpec,
    params: LossParams,
}

impl ValidLoss {
    /// The spec it was checked from (for its text form and catalogue entry).
    pub fn spec(&self) -> &LossSpec {
        &self.spec
    }

    /// The typed parameters.
    pub fn params(&self) -> LossParams {
        self.params
    }

    /// The loss's name in the text form.
    pub fn name(&self) -> &'static str {
        self.spec.info().name
    }
}

impl std::fmt::Display for LossSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl std::str::FromStr for LossSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for LossSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl<'de> serde::Deserialize<'de> for LossSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_entry_round_trips_through_text() {
        for info in LOSSES {
            let spec = LossSpec::defaults(info.kind);
            let text = spec.to_text();
            assert_eq!(LossSpec::parse(&text).unwrap(), spec, "{text}");
            for p in info.params {
                assert!(p.range.check_value(p.default), "{} {}", info.name, p.key);
                assert!(p.range.check_value(p.slider.0) && p.range.check_value(p.slider.1));
            }
        }
    }

    #[test]
    fn design_examples_parse() {
        for t in [
            "infonce:tau=0.5,eps=1",
            "acl-direct:tau=0.5,p=4,eps=0",
            "acl-quadratic:tau=0.5",
            "acl-entropy:tau=0.5",
            "acl-inverse:tau=0.5,p=2,k=1",
            "mine",
            "triplet:eps=0.1",
            "soft-triplet:tau=0.5,eps=0",
            "tuplet",
            "lifted:eps=0.1",
            "modified-triplet:c=1",
            "triplet-contrastive",
            "nt-xent:tau=0.5",
        ] {
            LossSpec::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
    }

    #[test]
    fn bad_specs_say_what_is_allowed() {
        let e = LossSpec::parse("infonse").unwrap_err();
        assert!(e.0.contains("known:") && e.0.contains("acl-direct"));
        let e = LossSpec::parse("infonce:tau=0").unwrap_err();
        assert!(e.0.contains("tau") && e.0.contains("> 0"));
        let e = LossSpec::parse("mine:tau=1").unwrap_err();
        assert!(e.0.contains("takes no parameters"));
        assert!(LossSpec::parse("acl-inverse:k=-1").is_err());
    }

    #[test]
    fn switching_keeps_shared_temperature() {
        let mut s = LossSpec::parse("infonce:tau=0.2").unwrap();
        let t = s.switch_to(LossKind::AclDirect);
        assert_eq!(t.get("tau"), Some(0.2));
        assert_eq!(t.get("p"), Some(4.0));
        assert_eq!(t.get("c"), None);
        assert!(s.set("tau", -1.0).is_err());
        s.set("tau", 0.3).unwrap();
        assert_eq!(s.get("tau"), Some(0.3));
    }

    #[test]
    fn check_gives_typed_parameters_in_the_papers_symbols() {
        let v = LossSpec::parse("acl-inverse:tau=0.3,p=3,k=2,eps=0.1")
            .unwrap()
            .check()
            .unwrap();
        assert_eq!(
            v.params(),
            LossParams::MinPlayer {
                rule: Rule::Inverse {
                    tau: 0.3,
                    p: 3.0,
                    k: 2.0
                },
                eps: 0.1
            }
        );
        assert_eq!(v.spec().to_text(), "acl-inverse:tau=0.3,p=3,k=2,eps=0.1");
        let v = LossSpec::parse("soft-triplet:tau=0.2,eps=-0.5")
            .unwrap()
            .check()
            .unwrap();
        assert_eq!(
            v.params(),
            LossParams::SoftTriplet {
                tau: 0.2,
                shift: -0.5
            }
        );
        assert!(matches!(
            v.params().form(),
            LossForm::Family {
                psi: Psi::Exp { b, .. },
                ..
            } if b == -0.5
        ));
        // Every loss of the catalogue has typed parameters, and only the min players lack a row.
        for info in LOSSES {
            let p = LossSpec::defaults(info.kind).check().unwrap().params();
            assert_eq!(
                p.family_row().is_none(),
                info.group == LossGroup::MinPlayer,
                "{}",
                info.name
            );
        }
    }

    #[test]
    fn check_errors_are_typed_and_say_the_range() {
        let mut s = LossSpec::parse("acl-direct").unwrap();
        s.values[1] = -2.0;
        let e = s.check().unwrap_err();
        assert_eq!(
            e,
            LossParamError::OutOfRange {
                loss: "acl-direct",
                key: "p",
                range: Range::Above(0.0),
                got: -2.0
            }
        );
        assert_eq!(
            e.to_string(),
            "parameter 'p' of 'acl-direct' must be > 0, got -2"
        );
        s.values.push(1.0);
        assert!(matches!(
            s.check(),
            Err(LossParamError::Arity {
                expected: 3,
                got: 4,
                ..
            })
        ));
        // Parsing runs the same check, with the same words.
        let e = LossSpec::parse("acl-direct:p=-2").unwrap_err();
        assert_eq!(e.0, "parameter 'p' of 'acl-direct' must be > 0, got -2");
        let e = LossSpec::parse("infonce:tau=inf").unwrap_err();
        assert!(e.0.contains("must be > 0, got inf"), "{e}");
    }
}
