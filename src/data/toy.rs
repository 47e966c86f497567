//! Data set specs: generated toy sets (no download, seeded) and loaded CIFAR-10.
//!
//! Every generated set has `n` training samples and a held-out split of `max(n/4, K)` samples
//! drawn from the same distribution; labels cycle `i mod K` so classes are balanced. Text forms
//! and what they generate (notation: ε ~ N(0, I)):
//!
//! - `gauss:k=6,d=32,n=1024,sep=4,std=1.2` (the default): K centres μ_c drawn uniformly on the sphere of radius
//!   `sep` in ℝ^d; x = μ_c + std·ε.
//! - `rings:k=3,d=8,n=1024,noise=0.15`: K concentric circles of radii 1..K in a random 2-plane of
//!   ℝ^d (orthonormal frame Q ∈ ℝ^{d×2}); x = Q·r_c(cos t, sin t) + noise·ε, t uniform.
//! - `spirals:k=3,d=8,n=1024,noise=0.1,turns=1`: K interleaved arms; with t uniform in [0, 1),
//!   radius ρ = 0.3 + 2.7 t and angle 2π(c/K + turns·t), lifted like `rings`.
//! - `aniso:n=1024`: PAPER.md §5.2 — d = 8, x = diag(3, 2.5, 2, 1.5, 1, .8, .5, .3)·ε; the label
//!   is the sign of x₁ (the second coordinate: the direction α-CL's max player should pick
//!   when the augmentation `axis:dim=0,std=2.8,rest=0.1` makes x₀ unreliable). K = 2.
//! - `sparse:d=10,n=1024`: PAPER.md §5.3 — x = s·m_k·e_k with k uniform in 0..d, s = ±1,
//!   m = linspace(10, 1); label k. Pair it with `support:std=0.5` (magnitude perturbation).
//! - `tree:depth=2,branch=3,d=16,n=1024,std=0.5,decay=0.6`: a hierarchical mixture. Every
//!   node v at level ℓ ≥ 1 has a feature f_v = 2·decay^{ℓ−1}·u_v with u_v uniform on the unit
//!   sphere; a sample of leaf class c is x = Σ_{v on the root→c path} f_v + std·ε. The
//!   branch^depth leaves are the classes; leaves with a common parent share its feature, so
//!   coarse groups are further apart than sibling classes.
//! - `cifar:size=16`: CIFAR-10 at 8, 16 or 32 px — loaded, not generated; see
//!   [`DataSpec::asset_path`] and `data::cifar`.

use ndarray::Array2;

use super::Dataset;
use crate::rng::Rng;
use crate::spec::{Range, SpecError, SpecText, fmt_num, format_spec};

/// Which data set to use.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// Gaussian mixture.
    Gauss {
        /// Number of clusters (classes).
        k: usize,
        /// Dimension.
        d: usize,
        /// Training samples.
        n: usize,
        /// Radius of the sphere the centres lie on.
        sep: f64,
        /// Cluster standard deviation.
        std: f64,
    },
    /// Concentric circles in a random 2-plane of ℝ^d.
    Rings {
        /// Number of rings (classes).
        k: usize,
        /// Dimension (≥ 2).
        d: usize,
        /// Training samples.
        n: usize,
        /// Isotropic noise standard deviation.
        noise: f64,
    },
    /// Interleaved spiral arms in a random 2-plane of ℝ^d.
    Spirals {
        /// Number of arms (classes).
        k: usize,
        /// Dimension (≥ 2).
        d: usize,
        /// Training samples.
        n: usize,
        /// Isotropic noise standard deviation.
        noise: f64,
        /// Turns of each arm.
        turns: f64,
    },
    /// The anisotropic set of PAPER.md §5.2 (d = 8, two classes by the sign of x₁).
    Aniso {
        /// Training samples.
        n: usize,
    },
    /// The sparse-feature set of PAPER.md §5.3.
    Sparse {
        /// Dimension = number of classes.
        d: usize,
        /// Training samples.
        n: usize,
    },
    /// Hierarchical mixture: classes are the leaves of a tree and share ancestors' features.
    Tree {
        /// Depth of the tree (levels below the root).
        depth: usize,
        /// Children per node.
        branch: usize,
        /// Dimension.
        d: usize,
        /// Training samples.
        n: usize,
        /// Within-class noise standard deviation.
        std: f64,
        /// Feature scale ratio between successive levels.
        decay: f64,
    },
    /// CIFAR-10 downsampled to `size`×`size` (loaded from a prepared file, not generated).
    Cifar {
        /// Image side: 8, 16 or 32.
        size: usize,
        /// The full 50 000 / 10 000 split (`set=full`, a CLI file made by
        /// `scripts/prepare-data.sh SIZE full`) instead of the lab's subset (`set=lab`).
        full: bool,
    },
}

impl Default for DataSpec {
    fn default() -> Self {
        Self::Gauss {
            k: 6,
            d: 32,
            n: 1024,
            sep: 4.0,
            std: 1.2,
        }
    }
}

/// The §5.2 per-dimension standard deviations.
pub const ANISO_STD: [f64; 8] = [3.0, 2.5, 2.0, 1.5, 1.0, 0.8, 0.5, 0.3];

impl DataSpec {
    /// Known names.
    pub const NAMES: &'static [&'static str] = &[
        "gauss", "rings", "spirals", "aniso", "sparse", "tree", "cifar",
    ];

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        let n_of = |p: &crate::spec::Params| p.usize("n", 1024, 8, 1_000_000);
        match st.name.as_str() {
            "gauss" => {
                let p = st.params(&["k", "d", "n", "sep", "std"])?;
                Ok(Self::Gauss {
                    k: p.usize("k", 6, 2, 64)?,
                    d: p.usize("d", 32, 1, 4096)?,
                    n: n_of(&p)?,
                    sep: p.f64("sep", 4.0, Range::Within(0.0, crate::spec::MAX_SCALE))?,
                    std: p.f64("std", 1.2, Range::AboveUpTo(0.0, crate::spec::MAX_SCALE))?,
                })
            }
            "rings" => {
                let p = st.params(&["k", "d", "n", "noise"])?;
                Ok(Self::Rings {
                    k: p.usize("k", 3, 2, 16)?,
                    d: p.usize("d", 8, 2, 4096)?,
                    n: n_of(&p)?,
                    noise: p.f64("noise", 0.15, Range::Within(0.0, crate::spec::MAX_SCALE))?,
                })
            }
            "spirals" => {
                let p = st.params(&["k", "d", "n", "noise", "turns"])?;
                Ok(Self::Spirals {
                    k: p.usize("k", 3, 2, 16)?,
                    d: p.usize("d", 8, 2, 4096)?,
                    n: n_of(&p)?,
                    noise: p.f64("noise", 0.1, Range::Within(0.0, crate::spec::MAX_SCALE))?,
                    turns: p.f64("turns", 1.0, Range::Within(0.0, 5.0))?,
                })
            }
            "aniso" => {
                let p = st.params(&["n"])?;
                Ok(Self::Aniso { n: n_of(&p)? })
            }
            "sparse" => {
                let p = st.params(&["d", "n"])?;
                Ok(Self::Sparse {
                    d: p.usize("d", 10, 2, 64)?,
                    n: n_of(&p)?,
                })
            }
            "tree" => {
                let p = st.params(&["depth", "branch", "d", "n", "std", "decay"])?;
                let depth = p.usize("depth", 2, 1, 6)?;
                let branch = p.usize("branch", 3, 2, 8)?;
                if branch.pow(depth as u32) > 64 {
                    return Err(SpecError::new(format!(
                        "tree: branch^depth = {} classes is more than 64",
                        branch.pow(depth as u32)
                    )));
                }
                Ok(Self::Tree {
                    depth,
                    branch,
                    d: p.usize("d", 16, 1, 4096)?,
                    n: n_of(&p)?,
                    std: p.f64("std", 0.5, Range::AboveUpTo(0.0, crate::spec::MAX_SCALE))?,
                    decay: p.f64("decay", 0.6, Range::AboveUpTo(0.0, 1.0))?,
                })
            }
            "cifar" | "cifar10" => {
                let p = st.params(&["size", "set"])?;
                let size = p.usize("size", 16, 8, 32)?;
                if ![8, 16, 32].contains(&size) {
                    return Err(SpecError::new(format!(
                        "parameter 'size' of 'cifar' must be 8, 16 or 32, got {size}"
                    )));
                }
                let full = p.choice("set", "lab", &["lab", "full"])? == "full";
                Ok(Self::Cifar { size, full })
            }
            other => Err(SpecError::new(format!(
                "unknown data set '{}' (known: {})",
                crate::spec::clip(other),
                Self::NAMES.join(", ")
            ))),
        }
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let u = |x: usize| x.to_string();
        match *self {
            Self::Gauss { k, d, n, sep, std } => format_spec(
                "gauss",
                &[
                    ("k", u(k)),
                    ("d", u(d)),
                    ("n", u(n)),
                    ("sep", fmt_num(sep)),
                    ("std", fmt_num(std)),
                ],
            ),
            Self::Rings { k, d, n, noise } => format_spec(
                "rings",
                &[
                    ("k", u(k)),
                    ("d", u(d)),
                    ("n", u(n)),
                    ("noise", fmt_num(noise)),
                ],
            ),
            Self::Spirals {
                k,
                d,
                n,
                noise,
                turns,
            } => format_spec(
                "spirals",
                &[
                    ("k", u(k)),
                    ("d", u(d)),
                    ("n", u(n)),
                    ("noise", fmt_num(noise)),
                    ("turns", fmt_num(turns)),
                ],
            ),
            Self::Aniso { n } => format_spec("aniso", &[("n", u(n))]),
            Self::Sparse { d, n } => format_spec("sparse", &[("d", u(d)), ("n", u(n))]),
            Self::Tree {
                depth,
                branch,
                d,
                n,
                std,
                decay,
            } => format_spec(
                "tree",
                &[
                    ("depth", u(depth)),
                    ("branch", u(branch)),
                    ("d", u(d)),
                    ("n", u(n)),
                    ("std", fmt_num(std)),
                    ("decay", fmt_num(decay)),
                ],
            ),
            Self::Cifar { size, full: false } => format_spec("cifar", &[("size", u(size))]),
            Self::Cifar { size, full: true } => {
                format_spec("cifar", &[("size", u(size)), ("set", "full".into())])
            }
        }
    }

    /// Number of training samples, when known without loading anything (`None` for CIFAR).
    pub fn train_size(&self) -> Option<usize> {
        match *self {
            Self::Gauss { n, .. }
            | Self::Rings { n, .. }
            | Self::Spirals { n, .. }
            | Self::Aniso { n }
            | Self::Sparse { n, .. }
            | Self::Tree { n, .. } => Some(n),
            Self::Cifar { .. } => None,
        }
    }

    /// For data sets that are loaded rather than generated, the asset path relative to the
    /// web root (e.g. `data/cifar10-16.bin`); `None` for generated sets.
    pub fn asset_path(&self) -> Option<&'static str> {
        match *self {
            Self::Cifar { size: 8, full } => Some(if full {
                "data/cifar10-8-full.bin"
            } else {
                "data/cifar10-8.bin"
            }),
            Self::Cifar { size: 32, full } => Some(if full {
                "data/cifar10-32-full.bin"
            } else {
                "data/cifar10-32.bin"
            }),
            Self::Cifar { full, .. } => Some(if full {
                "data/cifar10-16-full.bin"
            } else {
                "data/cifar10-16.bin"
            }),
            _ => None,
        }
    }

    /// Whether `data` is what this spec describes when it is loaded (CIFAR side matches).
    pub fn check_loaded(&self, data: &Dataset) -> Result<(), SpecError> {
        if let Self::Cifar { size, .. } = *self
            && !matches!(data.image_shape, Some((_, h, w)) if h == size && w == size)
        {
            return Err(SpecError::new(format!(
                "the loaded file holds {:?} images, but the spec asks for {size}×{size}",
                data.image_shape
            )));
        }
        Ok(())
    }

    /// Generates the data set deterministically from `seed`. Loaded sets (CIFAR) return an
    /// error naming the file to load.
    pub fn generate(&self, seed: u64) -> Result<Dataset, SpecError> {
        let mut rng = Rng::derive(seed, "data");
        let g = match *self {
            Self::Gauss { k, d, n, sep, std } => {
                let centres: Vec<Vec<f64>> = (0..k)
                    .map(|_| unit_vector(d, &mut rng).map(|v| v * sep))
                    .collect();
                Generated {
                    name: format!("Gaussian mixture ({k} clusters, {d}-d)"),
                    k,
                    d,
                    n,
                    class_names: (0..k).map(|c| format!("cluster {c}")).collect(),
                    sample: Box::new(move |c, rng, x| {
                        for (xj, mj) in x.iter_mut().zip(&centres[c]) {
                            *xj = mj + std * rng.normal();
                        }
                    }),
                }
            }
            Self::Rings { k, d, n, noise } => {
                let q = orthonormal_frame(d, &mut rng);
                Generated {
                    name: format!("{k} rings in {d}-d"),
                    k,
                    d,
                    n,
                    class_names: (0..k).map(|c| format!("ring {}", c + 1)).collect(),
                    sample: Box::new(move |c, rng, x| {
                        let t = std::f64::consts::TAU * rng.uniform();
                        let r = (c + 1) as f64;
                        lift(&q, r * t.cos(), r * t.sin(), noise, rng, x);
                    }),
                }
            }
            Self::Spirals {
                k,
                d,
                n,
                noise,
                turns,
            } => {
                let q = orthonormal_frame(d, &mut rng);
                Generated {
                    name: format!("{k} spirals in {d}-d"),
                    k,
                    d,
                    n,
                    class_names: (0..k).map(|c| format!("arm {c}")).collect(),
                    sample: Box::new(move |c, rng, x| {
                        let t = rng.uniform();
                        let rho = 0.3 + 2.7 * t;
                        let a = std::f64::consts::TAU * (c as f64 / k as f64 + turns * t);
                        lift(&q, rho * a.cos(), rho * a.sin(), noise, rng, x);
                    }),
                }
            }
            Self::Aniso { n } => Generated {
                name: "anisotropic (PAPER §5.2)".into(),
                k: 2,
                d: ANISO_STD.len(),
                n,
                class_names: vec!["x₁ < 0".into(), "x₁ > 0".into()],
                sample: Box::new(|c, rng, x| {
                    for (xj, s) in x.iter_mut().zip(ANISO_STD) {
                        *xj = s * rng.normal();
                    }
                    // The label is the sign of x₁: fold the draw into the requested class.
                    x[1] = if c == 1 { x[1].abs() } else { -x[1].abs() };
                }),
            },
            Self::Sparse { d, n } => Generated {
                name: format!("sparse features (PAPER §5.3, {d}-d)"),
                k: d,
                d,
                n,
                class_names: (0..d).map(|c| format!("feature {c}")).collect(),
                sample: Box::new(move |c, rng, x| {
                    x.iter_mut().for_each(|v| *v = 0.0);
                    let m = 10.0 - 9.0 * c as f64 / (d - 1) as f64;
                    x[c] = if rng.bernoulli(0.5) { m } else { -m };
                }),
            },
            Self::Tree {
                depth,
                branch,
                d,
                n,
                std,
                decay,
            } => {
                // Features of every node at levels 1..=depth; node index within its level.
                let mut feats: Vec<Vec<Vec<f64>>> = Vec::with_capacity(depth);
                for level in 1..=depth {
                    let scale = 2.0 * decay.powi(level as i32 - 1);
                    let count = branch.pow(level as u32);
                    feats.push(
                        (0..count)
                            .map(|_| unit_vector(d, &mut rng).map(|v| v * scale))
                            .collect(),
                    );
                }
                let k = branch.pow(depth as u32);
                let digits = move |leaf: usize| -> Vec<usize> {
                    (0..depth)
                        .rev()
                        .map(|l| (leaf / branch.pow(l as u32)) % branch)
                        .collect()
                };
                let class_names = (0..k)
                    .map(|c| {
                        digits(c)
                            .iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .collect();
                Generated {
                    name: format!("tree mixture ({k} leaves, depth {depth}, {d}-d)"),
                    k,
                    d,
                    n,
                    class_names,
                    sample: Box::new(move |c, rng, x| {
                        for (j, xj) in x.iter_mut().enumerate() {
                            // The ancestor of leaf c at level l has index c / branch^(depth−l).
                            let mut v = 0.0;
                            for (l, level) in feats.iter().enumerate() {
                                let node = c / branch.pow((depth - 1 - l) as u32);
                                v += level[node][j];
                            }
                            *xj = v + std * rng.normal();
                        }
                    }),
                }
            }
            Self::Cifar { size, full } => {
                return Err(SpecError::new(format!(
                    "CIFAR-10 ({size}×{size}) is loaded, not generated: load the prepared file \
                     '{}' (in the app it is fetched; natively use DataSpec::load_native). If it \
                     is missing, run `scripts/prepare-data.sh {size}{}`",
                    self.asset_path().unwrap_or("data/cifar10-16.bin"),
                    if full { " full" } else { "" }
                )));
            }
        };
        Ok(g.build(&mut rng))
    }
}

type Sampler = Box<dyn Fn(usize, &mut Rng, &mut [f64])>;

/// A generated set before sampling.
struct Generated {
    name: String,
    k: usize,
    d: usize,
    n: usize,
    class_names: Vec<String>,
    sample: Sampler,
}

impl Generated {
    fn build(self, rng: &mut Rng) -> Dataset {
        let mut buf = vec![0.0f64; self.d];
        let mut draw = |count: usize, rng: &mut Rng| {
            let mut x = Array2::<f32>::zeros((count, self.d));
            let mut y = Vec::with_capacity(count);
            for i in 0..count {
                let c = i % self.k;
                (self.sample)(c, rng, &mut buf);
                for (o, &v) in x.row_mut(i).iter_mut().zip(&buf) {
                    *o = v as f32;
                }
                y.push(c);
            }
            (x, y)
        };
        let (x_train, y_train) = draw(self.n, rng);
        let (x_test, y_test) = draw((self.n / 4).max(self.k), rng);
        Dataset {
            name: self.name,
            x_train,
            y_train,
            x_test,
            y_test,
            num_classes: self.k,
            class_names: self.class_names,
            image_shape: None,
        }
    }
}

/// A vector uniform on the unit sphere of ℝ^d.
fn unit_vector(d: usize, rng: &mut Rng) -> UnitVec {
    let v: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
    let nrm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    UnitVec(v.into_iter().map(|x| x / nrm).collect())
}

struct UnitVec(Vec<f64>);

impl UnitVec {
    fn map(self, f: impl Fn(f64) -> f64) -> Vec<f64> {
        self.0.into_iter().map(f).collect()
    }
}

/// Two orthonormal vectors of ℝ^d (Gram–Schmidt on Gaussian draws), d ≥ 2.
fn orthonormal_frame(d: usize, rng: &mut Rng) -> [Vec<f64>; 2] {
    let a = unit_vector(d, rng).0;
    loop {
        let mut b = unit_vector(d, rng).0;
        let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        b.iter_mut().zip(&a).for_each(|(bj, aj)| *bj -= dot * aj);
        let nrm = b.iter().map(|x| x * x).sum::<f64>().sqrt();
        if nrm > 1e-6 {
            b.iter_mut().for_each(|x| *x /= nrm);
            return [a, b];
        }
    }
}

/// x = Q·(u, v) + noise·ε.
fn lift(q: &[Vec<f64>; 2], u: f64, v: f64, noise: f64, rng: &mut Rng, x: &mut [f64]) {
    for (j, xj) in x.iter_mut().enumerate() {
        *xj = q[0][j] * u + q[1][j] * v + noise * rng.normal();
    }
}
