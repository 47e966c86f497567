//! Two-view augmentation: each sample becomes two random views (a positive pair).
//!
//! Vector augmentations (x ∈ ℝ^d, ε ~ N(0, 1) fresh per coordinate and view):
//! - `none`: x' = x.
//! - `noise:std=0.5`: x'_j = x_j + std·ε_j.
//! - `mask:p=0.2`: x'_j = m_j·x_j with m_j ~ Bernoulli(1 − p) (random masking).
//! - `axis:dim=0,std=2.8,rest=0.1`: anisotropic noise of PAPER.md §5.2 — x'_j = x_j + σ_j ε_j
//!   with σ_dim = `std` and σ_j = `rest` elsewhere ("augment along one axis").
//! - `support:std=0.5`: perturbs only non-zero coordinates, x'_j = x_j + std·ε_j·[x_j ≠ 0] (the
//!   magnitude perturbation of the §5.3 sparse set).
//!
//! Image augmentation `simclr:crop=0.6,flip=0.5,jitter=0.4,gray=0.2,noise=0` works on CHW
//! images with values in [0, 1], in this order (a strength of 0 switches a step off exactly):
//! 1. random resized crop: area fraction s ~ U[1 − 0.92·crop, 1] (crop = 1 gives SimCLR's
//!    [0.08, 1]), aspect ratio r log-uniform in [max(3/4, s), min(4/3, 1/s)] so the crop
//!    (W√(sr) × H√(s/r)) always fits, uniform position, resized back to H×W by bilinear
//!    interpolation with pixel-centre alignment (the full-image crop is the identity);
//! 2. horizontal flip with probability `flip`;
//! 3. colour jitter with probability 0.8 (as in SimCLR) when `jitter` > 0: brightness
//!    x ← b·x, contrast x ← c·(x − m) + m (m = mean grey level of the image), saturation
//!    x ← s·(x − g) + g (g = per-pixel grey), each factor ~ U[1 − 0.8·jitter, 1 + 0.8·jitter],
//!    then a hue rotation by h·2π, h ~ U[−0.2·jitter, 0.2·jitter], of the chroma plane of YIQ;
//!    values are clamped to [0, 1] after every step (saturation and hue only for 3 channels);
//! 4. grayscale with probability `gray`: every channel ← 0.299 R + 0.587 G + 0.114 B;
//! 5. Gaussian noise x ← clamp(x + noise·ε, 0, 1).
//!
//! Grey level is g = 0.299 R + 0.587 G + 0.114 B. The image steps need the shape, so the
//! trainer calls [`AugmentSpec::apply_image`] with `Dataset::image_shape`; for non-image data
//! `simclr` applies only its noise step.

use ndarray::{ArrayView1, ArrayViewMut1};

use crate::rng::Rng;
use crate::spec::{Range, SpecError, SpecText, fmt_num, format_spec};

/// SimCLR-style image augmentation strengths (each 0 = off).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageAug {
    /// Random-resized-crop strength in [0, 1]: minimum area 1 − 0.92·crop.
    pub crop: f64,
    /// Horizontal flip probability.
    pub flip: f64,
    /// Colour-jitter strength in [0, 1].
    pub jitter: f64,
    /// Grayscale probability.
    pub gray: f64,
    /// Gaussian noise standard deviation.
    pub noise: f64,
}

impl Default for ImageAug {
    fn default() -> Self {
        Self {
            crop: 0.6,
            flip: 0.5,
            jitter: 0.4,
            gray: 0.2,
            noise: 0.0,
        }
    }
}

/// Augmentation choice.
#[derive(Debug, Clone, PartialEq)]
pub enum AugmentSpec {
    /// The identity.
    None,
    /// Additive isotropic Gaussian noise.
    Noise {
        /// Standard deviation.
        std: f64,
    },
    /// Random masking of coordinates.
    Mask {
        /// Probability that a coordinate is zeroed.
        p: f64,
    },
    /// Anisotropic Gaussian noise: strong along one axis (PAPER.md §5.2).
    Axis {
        /// The strongly augmented coordinate.
        dim: usize,
        /// Noise std along it.
        std: f64,
        /// Noise std on every other coordinate.
        rest: f64,
    },
    /// Noise on the non-zero coordinates only (PAPER.md §5.3).
    Support {
        /// Standard deviation.
        std: f64,
    },
    /// SimCLR-style image augmentation.
    Simclr(ImageAug),
}

impl Default for AugmentSpec {
    fn default() -> Self {
        Self::Noise { std: 0.5 }
    }
}

impl AugmentSpec {
    /// SimCLR's CIFAR-10 recipe: random resized crop of area [0.2, 1] (crop = 0.87; crop = 1
    /// gives SimCLR's ImageNet range [0.08, 1]), horizontal flip 0.5, colour jitter 0.4 with
    /// probability 0.8, grey 0.2. The default augmentation of image data.
    pub fn simclr_cifar() -> Self {
        Self::Simclr(ImageAug {
            crop: 0.87,
            flip: 0.5,
            jitter: 0.4,
            gray: 0.2,
            noise: 0.0,
        })
    }

    /// The augmentation a run uses when its config names none: [`AugmentSpec::simclr_cifar`]
    /// for image data sets, Gaussian noise otherwise.
    pub fn default_for(data: &crate::data::DataSpec) -> Self {
        if data.asset_path().is_some() {
            Self::simclr_cifar()
        } else {
            Self::default()
        }
    }
}

const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

impl AugmentSpec {
    /// Known names.
    pub const NAMES: &'static [&'static str] =
        &["none", "noise", "mask", "axis", "support", "simclr"];

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        let unit = Range::Within(0.0, 1.0);
        match st.name.as_str() {
            "none" => {
                st.params(&[])?;
                Ok(Self::None)
            }
            "noise" => {
                let p = st.params(&["std"])?;
                Ok(Self::Noise {
                    std: p.f64("std", 0.5, Range::Within(0.0, crate::spec::MAX_SCALE))?,
                })
            }
            "mask" => {
                let p = st.params(&["p"])?;
                Ok(Self::Mask {
                    p: p.f64("p", 0.2, Range::Within(0.0, 0.99))?,
                })
            }
            "axis" => {
                let p = st.params(&["dim", "std", "rest"])?;
                Ok(Self::Axis {
                    dim: p.usize("dim", 0, 0, 1 << 20)?,
                    std: p.f64("std", 2.8, Range::Within(0.0, crate::spec::MAX_SCALE))?,
                    rest: p.f64("rest", 0.1, Range::Within(0.0, crate::spec::MAX_SCALE))?,
                })
            }
            "support" => {
                let p = st.params(&["std"])?;
                Ok(Self::Support {
                    std: p.f64("std", 0.5, Range::Within(0.0, crate::spec::MAX_SCALE))?,
                })
            }
            "simclr" => {
                let p = st.params(&["crop", "flip", "jitter", "gray", "noise"])?;
                let d = ImageAug::default();
                Ok(Self::Simclr(ImageAug {
                    crop: p.f64("crop", d.crop, unit)?,
                    flip: p.f64("flip", d.flip, unit)?,
                    jitter: p.f64("jitter", d.jitter, unit)?,
                    gray: p.f64("gray", d.gray, unit)?,
                    noise: p.f64("noise", d.noise, Range::Within(0.0, 1.0))?,
                }))
            }
            other => Err(SpecError::new(format!(
                "unknown augmentation '{}' (known: {})",
                crate::spec::clip(other),
                Self::NAMES.join(", ")
            ))),
        }
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        match self {
            Self::None => "none".into(),
            Self::Noise { std } => format_spec("noise", &[("std", fmt_num(*std))]),
            Self::Mask { p } => format_spec("mask", &[("p", fmt_num(*p))]),
            Self::Axis { dim, std, rest } => format_spec(
                "axis",
                &[
                    ("dim", dim.to_string()),
                    ("std", fmt_num(*std)),
                    ("rest", fmt_num(*rest)),
                ],
            ),
            Self::Support { std } => format_spec("support", &[("std", fmt_num(*std))]),
            Self::Simclr(a) => format_spec(
                "simclr",
                &[
                    ("crop", fmt_num(a.crop)),
                    ("flip", fmt_num(a.flip)),
                    ("jitter", fmt_num(a.jitter)),
                    ("gray", fmt_num(a.gray)),
                    ("noise", fmt_num(a.noise)),
                ],
            ),
        }
    }

    /// Whether this augmentation fits data of dimension `dim` with the given image shape:
    /// `axis` needs `dim` < d, `simclr` needs images.
    pub fn check_data(
        &self,
        dim: usize,
        image_shape: Option<(usize, usize, usize)>,
    ) -> Result<(), SpecError> {
        match self {
            Self::Axis { dim: a, .. } if *a >= dim => Err(SpecError::new(format!(
                "augmentation axis:dim={a} needs data with more than {a} dimensions (this set has {dim})"
            ))),
            Self::Simclr(_) if image_shape.is_none() => Err(SpecError::new(
                "the simclr augmentation needs image data (e.g. data=cifar:size=16); use noise, mask or axis for vectors",
            )),
            _ => Ok(()),
        }
    }

    /// Writes one random view of `x` into `out`, treating `x` as a plain vector (image steps of
    /// `simclr` are skipped). Same as [`AugmentSpec::apply_image`] with no shape.
    pub fn apply(&self, x: ArrayView1<f32>, out: ArrayViewMut1<f32>, rng: &mut Rng) {
        self.apply_image(x, None, out, rng);
    }

    /// Writes one random view of `x` into `out`. `shape` = (C, H, W) of CHW images in [0, 1]
    /// (`Dataset::image_shape`); with `None`, or a shape that does not match `x.len()`, the
    /// sample is treated as a vector. `out` must have the length of `x` (extra entries are
    /// left untouched).
    pub fn apply_image(
        &self,
        x: ArrayView1<f32>,
        shape: Option<(usize, usize, usize)>,
        mut out: ArrayViewMut1<f32>,
        rng: &mut Rng,
    ) {
        for (o, &v) in out.iter_mut().zip(x.iter()) {
            *o = v;
        }
        match *self {
            Self::None => {}
            Self::Noise { std } => {
                for o in out.iter_mut() {
                    *o += (std * rng.normal()) as f32;
                }
            }
            Self::Mask { p } => {
                for o in out.iter_mut() {
                    if rng.bernoulli(p) {
                        *o = 0.0;
                    }
                }
            }
            Self::Axis { dim, std, rest } => {
                for (j, o) in out.iter_mut().enumerate() {
                    let s = if j == dim { std } else { rest };
                    *o += (s * rng.normal()) as f32;
                }
            }
            Self::Support { std } => {
                for o in out.iter_mut() {
                    if *o != 0.0 {
                        *o += (std * rng.normal()) as f32;
                    }
                }
            }
            Self::Simclr(ref a) => {
                let n = out.len().min(x.len());
                match shape.filter(|&(c, h, w)| c * h * w == n && n > 0) {
                    Some(shape) => {
                        let mut img: Vec<f32> = x.iter().take(n).copied().collect();
                        a.apply(&mut img, shape, rng);
                        for (o, v) in out.iter_mut().zip(img) {
                            *o = v;
                        }
                    }
                    None => {
                        if a.noise > 0.0 {
                            for o in out.iter_mut() {
                                *o += (a.noise * rng.normal()) as f32;
                            }
                        }
                    }
                }
            }
        }
    }
}

impl ImageAug {
    /// Applies the SimCLR pipeline in place to one CHW image in [0, 1].
    pub fn apply(&self, img: &mut [f32], shape: (usize, usize, usize), rng: &mut Rng) {
        let (c, h, w) = shape;
        if self.crop > 0.0 {
            random_resized_crop(img, shape, 1.0 - 0.92 * self.crop, rng);
        }
        if self.flip > 0.0 && rng.bernoulli(self.flip) {
            hflip(img, shape);
        }
        if self.jitter > 0.0 && rng.bernoulli(0.8) {
            let s = 0.8 * self.jitter;
            let b = rng.uniform_range(1.0 - s, 1.0 + s) as f32;
            let ct = rng.uniform_range(1.0 - s, 1.0 + s) as f32;
            let sat = rng.uniform_range(1.0 - s, 1.0 + s) as f32;
            let hue = rng.uniform_range(-0.2 * self.jitter, 0.2 * self.jitter);
            img.iter_mut().for_each(|v| *v = (*v * b).clamp(0.0, 1.0));
            let m = mean_grey(img, shape);
            img.iter_mut()
                .for_each(|v| *v = (ct * (*v - m) + m).clamp(0.0, 1.0));
            if c == 3 {
                saturate(img, h * w, sat);
                hue_rotate(img, h * w, hue);
            }
        }
        if c == 3 && self.gray > 0.0 && rng.bernoulli(self.gray) {
            grayscale(img, h * w);
        }
        if self.noise > 0.0 {
            for v in img.iter_mut() {
                *v = (*v + (self.noise * rng.normal()) as f32).clamp(0.0, 1.0);
            }
        }
    }
}

/// Random resized crop (see the module doc); `min_area` ≥ 1 gives the identity.
pub fn random_resized_crop(
    img: &mut [f32],
    (c, h, w): (usize, usize, usize),
    min_area: f64,
    rng: &mut Rng,
) {
    let lo_area = min_area.clamp(0.01, 1.0);
    let s = if lo_area >= 1.0 {
        1.0
    } else {
        rng.uniform_range(lo_area, 1.0)
    };
    let (rlo, rhi) = ((0.75f64).max(s), (4.0 / 3.0f64).min(1.0 / s));
    let r = if rhi > rlo {
        rng.uniform_range(rlo.ln(), rhi.ln()).exp()
    } else {
        1.0
    };
    let cw = (w as f64 * (s * r).sqrt()).min(w as f64);
    let ch = (h as f64 * (s / r).sqrt()).min(h as f64);
    let x0 = if w as f64 > cw {
        rng.uniform_range(0.0, w as f64 - cw)
    } else {
        0.0
    };
    let y0 = if h as f64 > ch {
        rng.uniform_range(0.0, h as f64 - ch)
    } else {
        0.0
    };
    crop_resize(img, (c, h, w), x0, y0, cw, ch);
}

/// Resamples the window [x0, x0+cw) × [y0, y0+ch) of every plane to the full H×W by bilinear
/// interpolation: output pixel (i, j) reads source (y0 + (i + ½)·ch/H − ½, x0 + (j + ½)·cw/W − ½),
/// clamped to the image.
pub fn crop_resize(
    img: &mut [f32],
    (c, h, w): (usize, usize, usize),
    x0: f64,
    y0: f64,
    cw: f64,
    ch: f64,
) {
    let src = img.to_vec();
    let coord = |o: usize, start: f64, len: f64, out: usize, max: usize| {
        let s = (start + (o as f64 + 0.5) * len / out as f64 - 0.5).clamp(0.0, (max - 1) as f64);
        let i0 = s.floor() as usize;
        let i1 = (i0 + 1).min(max - 1);
        (i0, i1, s - i0 as f64)
    };
    let xs: Vec<_> = (0..w).map(|j| coord(j, x0, cw, w, w)).collect();
    for p in 0..c {
        let plane = &src[p * h * w..(p + 1) * h * w];
        for i in 0..h {
            let (a0, a1, fy) = coord(i, y0, ch, h, h);
            for (j, &(b0, b1, fx)) in xs.iter().enumerate() {
                let at = |y: usize, x: usize| f64::from(plane[y * w + x]);
                let top = at(a0, b0) * (1.0 - fx) + at(a0, b1) * fx;
                let bot = at(a1, b0) * (1.0 - fx) + at(a1, b1) * fx;
                img[p * h * w + i * w + j] = (top * (1.0 - fy) + bot * fy) as f32;
            }
        }
    }
}

/// Mirrors every row of every plane.
pub fn hflip(img: &mut [f32], (c, h, w): (usize, usize, usize)) {
    for row in img[..c * h * w].chunks_exact_mut(w) {
        row.reverse();
    }
}

fn mean_grey(img: &[f32], (c, h, w): (usize, usize, usize)) -> f32 {
    let hw = h * w;
    if c == 3 {
        let mut s = 0.0f64;
        for p in 0..hw {
            s += f64::from(LUMA[0] * img[p] + LUMA[1] * img[hw + p] + LUMA[2] * img[2 * hw + p]);
        }
        (s / hw as f64) as f32
    } else {
        (img.iter().map(|&v| f64::from(v)).sum::<f64>() / img.len().max(1) as f64) as f32
    }
}

fn saturate(img: &mut [f32], hw: usize, s: f32) {
    for p in 0..hw {
        let g = LUMA[0] * img[p] + LUMA[1] * img[hw + p] + LUMA[2] * img[2 * hw + p];
        for ch in 0..3 {
            let v = &mut img[ch * hw + p];
            *v = (s * (*v - g) + g).clamp(0.0, 1.0);
        }
    }
}

/// Rotates the (I, Q) chroma of YIQ by `turns`·2π, keeping Y.
fn hue_rotate(img: &mut [f32], hw: usize, turns: f64) {
    let (sn, cs) = (std::f64::consts::TAU * turns).sin_cos();
    for p in 0..hw {
        let (r, g, b) = (
            f64::from(img[p]),
            f64::from(img[hw + p]),
            f64::from(img[2 * hw + p]),
        );
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        let i = 0.595_716 * r - 0.274_453 * g - 0.321_263 * b;
        let q = 0.211_456 * r - 0.522_591 * g + 0.311_135 * b;
        let (i2, q2) = (cs * i - sn * q, sn * i + cs * q);
        let out = [
            y + 0.956_3 * i2 + 0.621_0 * q2,
            y - 0.272_1 * i2 - 0.647_4 * q2,
            y - 1.107_0 * i2 + 1.704_6 * q2,
        ];
        for (ch, v) in out.into_iter().enumerate() {
            img[ch * hw + p] = (v as f32).clamp(0.0, 1.0);
        }
    }
}

/// Sets every channel to the grey level 0.299 R + 0.587 G + 0.114 B.
pub fn grayscale(img: &mut [f32], hw: usize) {
    for p in 0..hw {
        let g = LUMA[0] * img[p] + LUMA[1] * img[hw + p] + LUMA[2] * img[2 * hw + p];
        img[p] = g;
        img[hw + p] = g;
        img[2 * hw + p] = g;
    }
}
