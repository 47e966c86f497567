//! Memory budgets: how many bytes a run will need, estimated from its [`RunConfig`] alone
//! (before anything is allocated), and the limits a run must fit in.
//!
//! The estimate ([`RunConfig::memory_estimate`]) adds up the big buffers of a run:
//!
//! - **data**: the training and held-out inputs as `f32` (generated sets: n and max(n/4, K)
//!   rows; CIFAR: the prepared file's 10 000 + 2 000 or 50 000 + 10 000 images, plus the file's
//!   bytes while it is decoded);
//! - **activations**: the training batch of 2B rows through the encoder, with what backward
//!   keeps (each layer's output and its gradient; im2col buffers of convolutions);
//! - **α**: the loss's 2B × 2B matrices (Gram / distances, weights, α, kernel scratch);
//! - **evaluation**: the inputs the evaluation protocol embeds (a copy of the data under the
//!   CLI's `full` protocol, 1 536 rows under the lab's subset), their representations and the
//!   chunked eval-mode forward pass;
//! - **weights**: parameters, gradients, the optimiser's moments and the last-finite copy kept
//!   for recovery after a divergence.
//!
//! It errs on the large side (a factor of about 1–2 of the measured peak) and is cheap: a few
//! multiplications per layer. [`check_budget`] compares it with a [`Budget`]: the browser's
//! (1.5 GiB: a wasm32 memory is at most 4 GiB and every run has its own worker), the native
//! one (8 GiB or ¾ of the machine's RAM, whichever is smaller), or a fixed number of bytes.
//! [`RunConfig::validate`] rejects configs above [`HARD_LIMIT`] on every face.

use super::config::RunConfig;
use super::trainer::EvalProtocol;
use crate::data::DataSpec;
use crate::nn::EncoderSpec;

/// One gibibyte.
pub const GIB: u64 = 1 << 30;
/// The limit every config must fit in (checked by [`RunConfig::validate`]): 8 GiB.
pub const HARD_LIMIT: u64 = 8 * GIB;
/// The browser's limit: 1.5 GiB (a wasm32 memory is at most 4 GiB; one worker per run).
pub const BROWSER_LIMIT: u64 = 3 * GIB / 2;

/// Bytes of one `f32`.
const F32: u64 = 4;
/// Rows of the lab's evaluation subset (2·512 training rows + 512 held-out rows).
const SUBSET_ROWS: u64 = 3 * 512;
/// Rows per chunk of an eval-mode forward pass (`nn::encoder::EMBED_CHUNK`).
const CHUNK_ROWS: u64 = crate::nn::encoder::EMBED_CHUNK as u64;

/// Where a run executes, and so how much memory it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// A run in the browser (one Web Worker, wasm32): [`BROWSER_LIMIT`].
    Browser,
    /// A native run (CLI, sweep): [`HARD_LIMIT`] or ¾ of the machine's RAM if smaller.
    Native,
    /// A fixed number of bytes (tests, tools).
    Bytes(u64),
}

impl Budget {
    /// The limit in bytes.
    pub fn limit(self) -> u64 {
        match self {
            Self::Browser => BROWSER_LIMIT,
            Self::Native => machine_ram()
                .map_or(HARD_LIMIT, |ram| ram / 4 * 3)
                .min(HARD_LIMIT),
            Self::Bytes(b) => b,
        }
    }

    /// How the limit is described in messages.
    pub fn describe(self) -> String {
        match self {
            Self::Browser => format!("the browser's limit of {}", format_bytes(self.limit())),
            Self::Native => format!("this machine's limit of {}", format_bytes(self.limit())),
            Self::Bytes(b) => format!("the limit of {}", format_bytes(b)),
        }
    }
}

/// Total RAM of this machine (Linux `/proc/meminfo`); `None` elsewhere and in the browser.
fn machine_ram() -> Option<u64> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
    #[cfg(target_arch = "wasm32")]
    {
        None
    }
}

/// Bytes a run needs, by kind of buffer (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct MemoryEstimate {
    /// Training and held-out inputs.
    pub data: u64,
    /// The 2B-row training batch through the encoder, forward and backward.
    pub activations: u64,
    /// The loss's 2B × 2B matrices.
    pub alpha: u64,
    /// Evaluation: inputs, representations and the chunked forward pass.
    pub evaluation: u64,
    /// Parameters, gradients, optimiser state and the recovery copy.
    pub weights: u64,
}

impl MemoryEstimate {
    /// The sum of every part.
    pub fn total(&self) -> u64 {
        self.data
            .saturating_add(self.activations)
            .saturating_add(self.alpha)
            .saturating_add(self.evaluation)
            .saturating_add(self.weights)
    }

    /// `≈ 20.3 GB (data 16.4 GB, activations …)`: the total and its parts.
    pub fn describe(&self) -> String {
        format!(
            "≈ {} (data {}, activations {}, α {}, evaluation {}, weights and optimiser {})",
            format_bytes(self.total()),
            format_bytes(self.data),
            format_bytes(self.activations),
            format_bytes(self.alpha),
            format_bytes(self.evaluation),
            format_bytes(self.weights)
        )
    }
}

/// A run that does not fit: its estimate and the budget it exceeds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "this run needs {} of memory, more than {}: use fewer samples (n=), a smaller dimension (d=) or encoder, or a smaller batch",
    .estimate.describe(),
    .budget.describe()
)]
pub struct OverBudget {
    /// What the run would need.
    pub estimate: MemoryEstimate,
    /// The budget it exceeds.
    pub budget: Budget,
}

/// The estimate of `cfg` under the CLI's protocol (`full`), checked against `budget`.
///
/// The app calls `check_budget(&cfg, Budget::Browser)` (the lab evaluates on subsets, so it
/// may use [`check_budget_for`] with [`EvalProtocol::Subset`]).
pub fn check_budget(cfg: &RunConfig, budget: Budget) -> Result<MemoryEstimate, OverBudget> {
    check_budget_for(cfg, EvalProtocol::Full, budget)
}

/// As [`check_budget`] under a given evaluation protocol.
pub fn check_budget_for(
    cfg: &RunConfig,
    protocol: EvalProtocol,
    budget: Budget,
) -> Result<MemoryEstimate, OverBudget> {
    let estimate = cfg.memory_estimate_for(protocol);
    if estimate.total() > budget.limit() {
        Err(OverBudget { estimate, budget })
    } else {
        Ok(estimate)
    }
}

impl RunConfig {
    /// The memory this run needs under the CLI's `full` evaluation protocol (the larger one),
    /// computed from the config alone.
    pub fn memory_estimate(&self) -> MemoryEstimate {
        self.memory_estimate_for(EvalProtocol::Full)
    }

    /// The memory this run needs under `protocol`.
    pub fn memory_estimate_for(&self, protocol: EvalProtocol) -> MemoryEstimate {
        let shape = data_shape(&self.data);
        let dim = shape.dim;
        let rows = 2 * self.batch as u64;
        let layers = layer_sizes(&self.encoder, shape.image, dim);
        let per_row: u64 = layers.iter().map(|l| l.train_per_row).sum();
        let fixed: u64 = layers.iter().map(|l| l.fixed).sum();
        let params: u64 = layers.iter().map(|l| l.params).sum();
        let widest = layers
            .iter()
            .map(|l| l.eval_per_row)
            .max()
            .unwrap_or(0)
            .max(dim);
        let repr = layers
            .iter()
            .find(|l| l.repr)
            .or(layers.last())
            .map_or(dim, |l| l.out);
        let n = shape.train + shape.test;
        let data = m(&[n, dim, F32]) + shape.file_bytes;
        // Input batch (x) and its layer outputs, gradients and caches.
        let activations = m(&[rows, dim + per_row, F32]) + fixed;
        let alpha = m(&[4, rows, rows, F32]);
        let eval_rows = match protocol {
            EvalProtocol::Full => n,
            EvalProtocol::Subset => SUBSET_ROWS.min(n),
        };
        // The protocol's inputs (copied), their representations (twice: raw and normalised),
        // two chunks of the widest layer in flight, kNN blocks, and the views' PCA.
        let evaluation = m(&[eval_rows, dim + 2 * repr, F32])
            + m(&[2 * CHUNK_ROWS, widest, F32])
            + m(&[CHUNK_ROWS, shape.train.min(4096), F32])
            + m(&[2, 512, repr.max(512), F32]);
        // Parameters, gradients, two moment buffers, and the recovery copies of all but the
        // gradients.
        let weights = m(&[7, params, F32]);
        MemoryEstimate {
            data,
            activations,
            alpha,
            evaluation,
            weights,
        }
    }
}

/// A saturating product.
fn m(xs: &[u64]) -> u64 {
    xs.iter().fold(1u64, |a, &x| a.saturating_mul(x))
}

/// What the data spec implies about sizes.
struct DataShape {
    train: u64,
    test: u64,
    dim: u64,
    image: Option<(u64, u64, u64)>,
    /// Bytes of a loaded file while it is decoded.
    file_bytes: u64,
}

fn data_shape(spec: &DataSpec) -> DataShape {
    let vector = |n: usize, k: usize, d: usize| DataShape {
        train: n as u64,
        test: (n / 4).max(k) as u64,
        dim: d as u64,
        image: None,
        file_bytes: 0,
    };
    match *spec {
        DataSpec::Gauss { k, d, n, .. }
        | DataSpec::Rings { k, d, n, .. }
        | DataSpec::Spirals { k, d, n, .. } => vector(n, k, d),
        DataSpec::Aniso { n } => vector(n, 2, crate::data::toy::ANISO_STD.len()),
        DataSpec::Sparse { d, n } => vector(n, d, d),
        DataSpec::Tree {
            depth,
            branch,
            d,
            n,
            ..
        } => vector(n, branch.pow(depth as u32), d),
        DataSpec::Cifar { size, full } => {
            let (train, test) = if full {
                (50_000, 10_000)
            } else {
                (10_000, 2_000)
            };
            let s = size as u64;
            let dim = 3 * s * s;
            DataShape {
                train,
                test,
                dim,
                image: Some((3, s, s)),
                file_bytes: (train + test) * (dim + 1),
            }
        }
    }
}

/// One layer's share of the estimate.
struct LayerSize {
    /// Output width per row.
    out: u64,
    /// `f32`s per training row: output, gradient and caches.
    train_per_row: u64,
    /// `f32`s per row of an eval-mode pass (output and scratch).
    eval_per_row: u64,
    /// Bytes independent of the batch (gather tables).
    fixed: u64,
    /// Trainable parameters (and running statistics).
    params: u64,
    /// Whether this is the last layer of the representation (before a projection head).
    repr: bool,
}

fn dense(inp: u64, out: u64, bias: bool) -> LayerSize {
    LayerSize {
        out,
        train_per_row: 3 * out,
        eval_per_row: out,
        fixed: 0,
        params: inp * out + if bias { out } else { 0 },
        repr: false,
    }
}

/// The layers `spec` builds on `dim`-dimensional inputs (images: (C, H, W)), by size only.
fn layer_sizes(spec: &EncoderSpec, image: Option<(u64, u64, u64)>, dim: u64) -> Vec<LayerSize> {
    let u = |x: usize| x as u64;
    match *spec {
        EncoderSpec::Linear { out } => vec![dense(dim, u(out), false)],
        EncoderSpec::DeepLinear {
            layers, width, out, ..
        } => {
            let mut v = Vec::new();
            let mut d = dim;
            for i in 0..layers {
                let o = if i + 1 == layers { u(out) } else { u(width) };
                v.push(dense(d, o, false));
                d = o;
            }
            v
        }
        EncoderSpec::Mlp { hidden, out, .. } => {
            vec![dense(dim, u(hidden), true), dense(u(hidden), u(out), true)]
        }
        EncoderSpec::Relu2 { hidden, out, .. } => {
            vec![
                dense(dim, u(hidden), false),
                dense(u(hidden), u(out), false),
            ]
        }
        EncoderSpec::CnnSmall { out } => {
            let (mut c, mut h, mut w) = image.unwrap_or((1, 1, dim));
            let mut v = Vec::new();
            for ch in [16u64, 20, 20] {
                v.push(conv((c, h, w), ch, 1));
                (c, h, w) = (ch, h / 2, w / 2);
                v.push(elementwise(c * h * w, 0));
            }
            v.push(dense(c * h * w, u(out), true));
            v
        }
        EncoderSpec::Cnn {
            width,
            blocks,
            head,
            out,
        } => {
            let (mut c, mut h, mut w) = image.unwrap_or((1, 1, dim));
            let mut v = Vec::new();
            for b in 0..blocks {
                let stride = if b == 0 { 1 } else { 2 };
                let co = u(width) << b;
                v.push(conv((c, h, w), co, stride));
                h = (h.saturating_sub(1)) / stride + 1;
                w = (w.saturating_sub(1)) / stride + 1;
                c = co;
                v.push(elementwise(c * h * w, 4 * c));
            }
            let mut pool = elementwise(c, 0);
            pool.repr = true;
            v.push(pool);
            if head > 0 {
                v.push(dense(c, u(head), false));
                v.push(elementwise(u(head), 4 * u(head)));
                v.push(dense(u(head), u(out), true));
            }
            v
        }
    }
}

/// A 3×3 convolution with padding 1 (output, gradient, the im2col buffer and its gradient,
/// the (C_out × rows·P) output buffer, the gather table).
fn conv((c, h, w): (u64, u64, u64), c_out: u64, stride: u64) -> LayerSize {
    let ho = h.saturating_sub(1) / stride + 1;
    let wo = w.saturating_sub(1) / stride + 1;
    let p = ho * wo;
    let out = c_out * p;
    let cols = 9 * c * p;
    LayerSize {
        out,
        train_per_row: 3 * out + 2 * cols,
        eval_per_row: out + cols,
        fixed: 9 * c * p * 4,
        params: 9 * c * c_out + c_out,
        repr: false,
    }
}

/// A layer that keeps its input's size (BatchNorm, pooling, flattening).
fn elementwise(out: u64, params: u64) -> LayerSize {
    LayerSize {
        out,
        train_per_row: 2 * out,
        eval_per_row: out,
        fixed: 0,
        params,
        repr: false,
    }
}

/// `1.5 GiB`, `340 MiB`, `12 KiB`, `512 B`.
pub fn format_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else if v >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Parses a size such as `8GiB`, `1.5 GiB`, `512MiB`, `64M`, `2G` or `1000000` (bytes; the
/// suffixes K, M, G, T are binary, with or without `iB`/`B`).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "'{}' is not a size (e.g. 8GiB, 512MiB)",
                crate::spec::clip(t)
            ));
        }
    };
    let v: f64 = num.parse().map_err(|_| {
        format!(
            "'{}' is not a size (e.g. 8GiB, 512MiB)",
            crate::spec::clip(t)
        )
    })?;
    let bytes = v * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("'{}' is not a positive size", crate::spec::clip(t)));
    }
    Ok(bytes as u64)
}

/// Memory of the reference calculator (`alphacl loss`) and the loss benchmark: `rows` × `dim`
/// inputs with `bytes` per value, the loss's n × n matrices (Gram / distances, weights, α and
/// scratch) and the gradient.
pub fn loss_memory_estimate(rows: u64, dim: u64, bytes: u64) -> MemoryEstimate {
    MemoryEstimate {
        data: m(&[3, rows, dim, bytes]),
        activations: 0,
        alpha: m(&[4, rows, rows, bytes]),
        evaluation: 0,
        weights: 0,
    }
}

/// The estimate of the loss calculator's matrices, checked against `budget`.
pub fn check_loss_budget(
    rows: u64,
    dim: u64,
    bytes: u64,
    budget: Budget,
) -> Result<MemoryEstimate, OverBudget> {
    let estimate = loss_memory_estimate(rows, dim, bytes);
    if estimate.total() > budget.limit() {
        Err(OverBudget { estimate, budget })
    } else {
        Ok(estimate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_written_in_binary_units() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 * GIB / 2), "1.5 GiB");
        assert_eq!(format_bytes(340 << 20), "340 MiB");
    }

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1.5 GiB"), Ok(3 * GIB / 2));
        assert_eq!(parse_bytes("2G"), Ok(2 * GIB));
        assert_eq!(parse_bytes("1000"), Ok(1000));
        for bad in ["", "lots", "-1G", "0", "1e9999", "5 parsecs"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_issue_config_is_about_twenty_gigabytes() {
        let cfg = RunConfig {
            data: DataSpec::parse("gauss:n=1000000,d=4096").unwrap(),
            ..RunConfig::default()
        };
        let e = cfg.memory_estimate();
        // 1.25 M rows × 4096 × 4 B of data alone, and the same again for evaluation.
        assert!(e.data >= 20_000_000_000, "{}", e.describe());
        assert!(check_budget(&cfg, Budget::Native).is_err());
    }

    #[test]
    fn the_default_run_and_the_cifar_preset_fit_the_browser() {
        let default = RunConfig::default();
        assert!(default.memory_estimate().total() < 64 << 20);
        let text = "data=cifar:size=16&encoder=cnn:width=32,blocks=4,head=256,out=64&batch=256";
        let cifar = RunConfig::parse(text).unwrap();
        let e = check_budget_for(&cifar, EvalProtocol::Subset, Budget::Browser)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(e.activations > 100 << 20, "{}", e.describe());
    }
}
