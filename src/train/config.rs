//! [`RunConfig`]: everything that determines a run, in one text form.
//!
//! The text form is a `&`-separated list of `key=value` pairs whose values are component specs:
//!
//! `data=gauss:k=4,d=8&encoder=mlp:hidden=64,out=16&loss=nt-xent:tau=0.5&optim=adam:lr=0.001&aug=noise:std=0.5&batch=64&seed=1`
//!
//! It is used verbatim in the URL hash, by the CLI (`--set key=value`) and in exported
//! `run.json` files (as the `config` string). Missing keys take their defaults; unknown keys
//! are errors.
//!
//! The theory modes are ordinary configs: e.g. `encoder=deep-linear:L=3,width=8,wnorm=frob`
//! with `normalize=0` (PAPER.md §5.2: no output normalisation, unit-Frobenius layers after
//! every step) or `encoder=relu2:hidden=10,out=20,wnorm=row` (§5.3). The weight constraint is
//! part of the encoder spec (see [`crate::nn::encoder`]); the optimiser spec carries the
//! learning-rate schedule (`sgd:lr=0.1,momentum=0.9,nesterov=1,sched=cosine,warmup=100,total=5000`).
//!
//! [`RunConfig::validate`] rejects combinations that cannot run, with a message: an image
//! encoder (`cnn:small`) on vector data, a batch larger than the training set, or a run whose
//! memory estimate ([`RunConfig::memory_estimate`]) is above [`super::budget::HARD_LIMIT`].

use crate::data::{AugmentSpec, DataSpec};
use crate::loss::LossSpec;
use crate::nn::{EncoderSpec, OptimSpec};
use crate::spec::{SpecError, clip};

/// A complete, reproducible description of a training run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Data set.
    pub data: DataSpec,
    /// Encoder architecture.
    pub encoder: EncoderSpec,
    /// Contrastive loss.
    pub loss: LossSpec,
    /// Optimiser.
    pub optim: OptimSpec,
    /// Two-view augmentation.
    pub augment: AugmentSpec,
    /// Number of samples per batch B (the loss sees 2B rows).
    pub batch: usize,
    /// Seed of every random stream (data, init, batches, augmentation).
    pub seed: u64,
    /// L2-normalise embeddings before the loss.
    pub normalize: bool,
    /// Evaluate (kNN accuracy, snapshot) every this many steps.
    pub eval_every: usize,
    /// Whether `aug` was given explicitly; until it is, setting `data` also sets the data's
    /// default augmentation ([`AugmentSpec::default_for`]: SimCLR's recipe for images).
    pub aug_explicit: bool,
}

/// Equality of what determines the run (whether `aug` was typed or defaulted does not).
impl PartialEq for RunConfig {
    fn eq(&self, o: &Self) -> bool {
        self.data == o.data
            && self.encoder == o.encoder
            && self.loss == o.loss
            && self.optim == o.optim
            && self.augment == o.augment
            && self.batch == o.batch
            && self.seed == o.seed
            && self.normalize == o.normalize
            && self.eval_every == o.eval_every
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            data: DataSpec::default(),
            encoder: EncoderSpec::default(),
            loss: LossSpec::default(),
            optim: OptimSpec::adam(3e-3),
            augment: AugmentSpec::default(),
            batch: 64,
            seed: 1,
            normalize: true,
            eval_every: 25,
            aug_explicit: false,
        }
    }
}

/// The keys of the text form, in the order they are written.
pub const CONFIG_KEYS: &[&str] = &[
    "data",
    "encoder",
    "loss",
    "optim",
    "aug",
    "batch",
    "seed",
    "normalize",
    "eval",
];

impl RunConfig {
    /// Sets one key from its text value.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SpecError> {
        let ctx = |e: SpecError| SpecError::new(format!("{key}: {e}"));
        match key {
            "data" => {
                self.data = DataSpec::parse(value).map_err(ctx)?;
                if !self.aug_explicit {
                    self.augment = AugmentSpec::default_for(&self.data);
                }
            }
            "encoder" => self.encoder = EncoderSpec::parse(value).map_err(ctx)?,
            "loss" => self.loss = LossSpec::parse(value).map_err(ctx)?,
            "optim" => self.optim = OptimSpec::parse(value).map_err(ctx)?,
            "aug" => {
                self.augment = AugmentSpec::parse(value).map_err(ctx)?;
                self.aug_explicit = true;
            }
            "batch" => {
                self.batch = value
                    .parse()
                    .ok()
                    .filter(|b| (2..=1024).contains(b))
                    .ok_or_else(|| {
                        SpecError::new(format!(
                            "batch must be a whole number from 2 to 1024, got '{}'",
                            clip(value)
                        ))
                    })?;
            }
            "seed" => {
                self.seed = value.parse().map_err(|_| {
                    SpecError::new(format!(
                        "seed must be a whole number, got '{}'",
                        clip(value)
                    ))
                })?;
            }
            "normalize" => {
                self.normalize = match value {
                    "1" | "true" | "on" => true,
                    "0" | "false" | "off" => false,
                    _ => {
                        return Err(SpecError::new(format!(
                            "normalize must be 1 or 0, got '{}'",
                            clip(value)
                        )));
                    }
                }
            }
            "eval" => {
                self.eval_every = value
                    .parse()
                    .ok()
                    .filter(|e| (1..=1_000_000).contains(e))
                    .ok_or_else(|| {
                        SpecError::new(format!(
                            "eval must be a whole number >= 1, got '{}'",
                            clip(value)
                        ))
                    })?;
            }
            other => {
                return Err(SpecError::new(format!(
                    "unknown config key '{}' (known: {})",
                    clip(other),
                    CONFIG_KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Parses the `key=value&...` text form (missing keys keep their defaults).
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let mut cfg = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for (k, v) in split_pairs(text) {
            if seen.contains(&k) {
                return Err(SpecError::new(format!("key '{}' given twice", clip(&k))));
            }
            cfg.set(&k, &v)?;
            seen.push(k);
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks combinations that are individually valid but impossible together.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.encoder.needs_images() && !matches!(self.data, DataSpec::Cifar { .. }) {
            return Err(SpecError::new(format!(
                "encoder {} needs image data (data=cifar:size=16 or cifar:size=32), but data={} is not made of images",
                self.encoder.to_text(),
                self.data.to_text()
            )));
        }
        if let Some(n) = self.data.train_size()
            && self.batch > n
        {
            return Err(SpecError::new(format!(
                "batch ({}) is larger than the training set ({n} samples)",
                self.batch
            )));
        }
        super::budget::check_budget(
            self,
            super::budget::Budget::Bytes(super::budget::HARD_LIMIT),
        )
        .map_err(|e| SpecError::new(e.to_string()))?;
        Ok(())
    }

    /// The text form (every key written out).
    pub fn to_text(&self) -> String {
        [
            ("data", self.data.to_text()),
            ("encoder", self.encoder.to_text()),
            ("loss", self.loss.to_text()),
            ("optim", self.optim.to_text()),
            ("aug", self.augment.to_text()),
            ("batch", self.batch.to_string()),
            ("seed", self.seed.to_string()),
            ("normalize", u8::from(self.normalize).to_string()),
            ("eval", self.eval_every.to_string()),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Splits `a=b&c=d` (also accepting a leading `#` and percent-escapes) into pairs.
pub fn split_pairs(text: &str) -> Vec<(String, String)> {
    text.trim()
        .trim_start_matches('#')
        .split('&')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k.trim()), percent_decode(v.trim())),
            None => (percent_decode(p.trim()), String::new()),
        })
        .collect()
}

/// Decodes `%xx` escapes (invalid escapes are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl serde::Serialize for RunConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl<'de> serde::Deserialize<'de> for RunConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let mut c = RunConfig::default();
        c.set("loss", "acl-direct:tau=0.3,p=4,eps=0").unwrap();
        c.set("batch", "32").unwrap();
        c.set("seed", "42").unwrap();
        let t = c.to_text();
        assert_eq!(RunConfig::parse(&t).unwrap(), c);
        assert_eq!(RunConfig::parse(&format!("#{t}")).unwrap(), c);
    }

    #[test]
    fn bad_values_are_rejected_with_the_key_named() {
        let e = RunConfig::parse("loss=nope").unwrap_err();
        assert!(e.0.starts_with("loss:"), "{e}");
        assert!(RunConfig::parse("batch=1").is_err());
        assert!(
            RunConfig::parse("color=red")
                .unwrap_err()
                .0
                .contains("known:")
        );
        assert!(
            RunConfig::parse("data=gauss:n=16&batch=64")
                .unwrap_err()
                .0
                .contains("larger")
        );
    }

    #[test]
    fn image_data_without_aug_gets_the_simclr_recipe_in_either_key_order() {
        let simclr = AugmentSpec::simclr_cifar();
        assert_eq!(
            RunConfig::parse("data=cifar:size=16").unwrap().augment,
            simclr
        );
        let mut c = RunConfig::default();
        c.set("data", "cifar:size=32").unwrap();
        assert_eq!(c.augment, simclr);
        // An explicit aug wins, before or after the data.
        for text in [
            "aug=noise:std=0.5&data=cifar:size=16",
            "data=cifar:size=16&aug=noise:std=0.5",
        ] {
            let c = RunConfig::parse(text).unwrap();
            assert_eq!(c.augment, AugmentSpec::Noise { std: 0.5 }, "{text}");
        }
        // Vector data keeps the noise default.
        let c = RunConfig::parse("data=gauss:k=4,d=8").unwrap();
        assert_eq!(c.augment, AugmentSpec::default());
    }

    #[test]
    fn a_repeated_key_is_an_error() {
        let e = RunConfig::parse("batch=32&seed=2&batch=64").unwrap_err();
        assert!(e.0.contains("'batch' given twice"), "{e}");
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(percent_decode("nt-xent%3Atau%3D0.5"), "nt-xent:tau=0.5");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
