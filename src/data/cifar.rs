//! CIFAR-10: the compact prepared format, the official binary batches, downsampling.
//!
//! **Prepared format** (`web/data/cifar10-<size>.bin`, written by `alphacl prepare-cifar`,
//! fetched by the app). All integers little-endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `ACLCIFAR` |
//! | 2 | version (u16) = 1 |
//! | 1 | channels C (1 or 3) |
//! | 1 | side S (height = width, 1..=32) |
//! | 4 | train count (u32) |
//! | 4 | test count (u32) |
//! | 1 | number of classes K (1..=255) |
//! | K × (1 + len) | class names: u8 length, then UTF-8 bytes |
//! | n_train | train labels (u8, each < K) |
//! | n_train·C·S·S | train pixels, u8, each image CHW |
//! | n_test | test labels |
//! | n_test·C·S·S | test pixels |
//!
//! Nothing may follow. [`parse_prepared`] checks every field and never panics.
//!
//! **Official binary** (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`): records of
//! 1 label byte + 3072 pixel bytes (R, G, B planes of 32×32, row-major). [`parse_official_bin`]
//! downsamples them to the requested side
//! ([`official_bin_to_prepared`] keeps the compact u8 form).
//!
//! **Downsampling** is area averaging: with f = 32 / S, output pixel (c, i, j) is the mean of
//! the f×f block of input pixels (c, f·i..f·i+f, f·j..f·j+f), rounded to the nearest integer
//! (halves up): `(Σ + f²/2) / f²` in integer arithmetic. S must divide 32.
//!
//! In a [`Dataset`] pixels become f32 `v / 255` in [0, 1], flattened CHW.

use ndarray::Array2;

use super::{DataError, Dataset};
use crate::rng::Rng;

/// CIFAR-10 class names, in label order.
pub const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Magic bytes at the start of a prepared file.
pub const MAGIC: &[u8; 8] = b"ACLCIFAR";
/// Current version of the prepared format.
pub const VERSION: u16 = 1;
/// Side of the original images.
pub const NATIVE_SIDE: usize = 32;
/// Bytes per record of the official binary format (1 label + 3·32·32 pixels).
pub const OFFICIAL_RECORD: usize = 1 + 3 * NATIVE_SIDE * NATIVE_SIDE;

/// A prepared data set in its compact form (u8 pixels, CHW per image).
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Channels (1 or 3).
    pub channels: usize,
    /// Image side (height = width).
    pub side: usize,
    /// Class names.
    pub class_names: Vec<String>,
    /// Training labels.
    pub train_labels: Vec<u8>,
    /// Training pixels, `train_labels.len() · C·S·S` bytes.
    pub train_pixels: Vec<u8>,
    /// Test labels.
    pub test_labels: Vec<u8>,
    /// Test pixels.
    pub test_pixels: Vec<u8>,
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, DataError> {
    Err(DataError::Invalid(msg.into()))
}

/// A cursor over bytes that reports truncation instead of panicking.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DataError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => invalid(format!(
                "file is truncated: needed {n} bytes for {what} at offset {}, but only {} remain",
                self.pos,
                self.bytes.len() - self.pos
            )),
        }
    }
    fn u8(&mut self, what: &str) -> Result<u8, DataError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, DataError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, DataError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl Prepared {
    /// A validated CIFAR-10 set from (labels, pixels) of each split.
    fn cifar10(
        channels: usize,
        side: usize,
        train: (Vec<u8>, Vec<u8>),
        test: (Vec<u8>, Vec<u8>),
    ) -> Result<Self, DataError> {
        let names = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
        Self::validated(channels, side, names, train, test)
    }

    /// A validated set from its class names and the (labels, pixels) of each split.
    fn validated(
        channels: usize,
        side: usize,
        class_names: Vec<String>,
        (train_labels, train_pixels): (Vec<u8>, Vec<u8>),
        (test_labels, test_pixels): (Vec<u8>, Vec<u8>),
    ) -> Result<Self, DataError> {
        let p = Self {
            channels,
            side,
            class_names,
            train_labels,
            train_pixels,
            test_labels,
            test_pixels,
        };
        p.validate()?;
        Ok(p)
    }

    /// Bytes per image (C·S·S).
    pub fn image_len(&self) -> usize {
        self.channels * self.side * self.side
    }

    /// Checks internal consistency (used before writing and after parsing).
    pub fn validate(&self) -> Result<(), DataError> {
        if !(self.channels == 1 || self.channels == 3) {
            return invalid(format!("channels must be 1 or 3, got {}", self.channels));
        }
        if !(1..=NATIVE_SIDE).contains(&self.side) {
            return invalid(format!("image side must be 1..=32, got {}", self.side));
        }
        let k = self.class_names.len();
        if k == 0 || k > 255 {
            return invalid(format!("number of classes must be 1..=255, got {k}"));
        }
        if let Some(n) = self.class_names.iter().find(|n| n.len() > 255) {
            return invalid(format!("class name '{n}' is longer than 255 bytes"));
        }
        if self.train_labels.is_empty() {
            return invalid("the training split is empty");
        }
        for (split, labels, pixels) in [
            ("train", &self.train_labels, &self.train_pixels),
            ("test", &self.test_labels, &self.test_pixels),
        ] {
            if pixels.len() != labels.len() * self.image_len() {
                return invalid(format!(
                    "{split} split: {} pixel bytes for {} images of {} bytes",
                    pixels.len(),
                    labels.len(),
                    self.image_len()
                ));
            }
            if let Some(&y) = labels.iter().find(|&&y| usize::from(y) >= k) {
                return invalid(format!(
                    "{split} split: label {y} out of range (there are {k} classes)"
                ));
            }
            if u32::try_from(labels.len()).is_err() {
                return invalid(format!("{split} split: too many images"));
            }
        }
        Ok(())
    }

    /// Serialises to the prepared format (see the module doc).
    pub fn to_bytes(&self) -> Result<Vec<u8>, DataError> {
        self.validate()?;
        let mut out = Vec::with_capacity(
            64 + self.train_pixels.len() + self.test_pixels.len() + self.train_labels.len() * 2,
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(self.channels as u8);
        out.push(self.side as u8);
        out.extend_from_slice(&(self.train_labels.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.test_labels.len() as u32).to_le_bytes());
        out.push(self.class_names.len() as u8);
        for n in &self.class_names {
            out.push(n.len() as u8);
            out.extend_from_slice(n.as_bytes());
        }
        out.extend_from_slice(&self.train_labels);
        out.extend_from_slice(&self.train_pixels);
        out.extend_from_slice(&self.test_labels);
        out.extend_from_slice(&self.test_pixels);
        Ok(out)
    }

    /// Parses the prepared format, validating every field.
    pub fn parse(bytes: &[u8]) -> Result<Self, DataError> {
        if bytes.is_empty() {
            return invalid(
                "the file is empty (expected a prepared CIFAR file starting with 'ACLCIFAR')",
            );
        }
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(MAGIC.len(), "the magic bytes")?;
        if magic != MAGIC {
            return invalid(
                "wrong magic bytes: not a prepared CIFAR file (expected 'ACLCIFAR'; official \
                 CIFAR-10 batches must be dropped as data_batch_N.bin / test_batch.bin)",
            );
        }
        let version = r.u16("the version")?;
        if version != VERSION {
            return invalid(format!(
                "unsupported version {version} (this build reads version {VERSION}; re-run prepare-cifar)"
            ));
        }
        let channels = usize::from(r.u8("the channel count")?);
        let side = usize::from(r.u8("the image side")?);
        if !(channels == 1 || channels == 3) {
            return invalid(format!("channels must be 1 or 3, got {channels}"));
        }
        if !(1..=NATIVE_SIDE).contains(&side) {
            return invalid(format!("image side must be 1..=32, got {side}"));
        }
        let n_train = r.u32("the train count")? as usize;
        let n_test = r.u32("the test count")? as usize;
        let k = usize::from(r.u8("the class count")?);
        if k == 0 {
            return invalid("the number of classes is 0");
        }
        let mut class_names = Vec::with_capacity(k);
        for c in 0..k {
            let len = usize::from(r.u8("a class-name length")?);
            let name = r.take(len, "a class name")?;
            let name = std::str::from_utf8(name)
                .map_err(|_| DataError::Invalid(format!("class name {c} is not UTF-8")))?;
            class_names.push(name.to_string());
        }
        let img = channels * side * side;
        let mut split = |n: usize, what: &str| -> Result<(Vec<u8>, Vec<u8>), DataError> {
            let labels = r.take(n, &format!("{n} {what} labels"))?.to_vec();
            let px_len = n.checked_mul(img).ok_or_else(|| {
                DataError::Invalid(format!("{what} count {n} is implausibly large"))
            })?;
            let pixels = r.take(px_len, &format!("{n} {what} images"))?.to_vec();
            Ok((labels, pixels))
        };
        let train = split(n_train, "train")?;
        let test = split(n_test, "test")?;
        if r.pos != bytes.len() {
            return invalid(format!(
                "{} unexpected bytes after the test images (wrong counts in the header?)",
                bytes.len() - r.pos
            ));
        }
        Self::validated(channels, side, class_names, train, test)
    }

    /// Converts to a [`Dataset`] (pixels `v / 255`, CHW rows).
    pub fn to_dataset(&self) -> Dataset {
        let dim = self.image_len();
        let conv = |px: &[u8], n: usize| {
            Array2::from_shape_vec((n, dim), px.iter().map(|&v| f32::from(v) / 255.0).collect())
                .unwrap_or_else(|_| Array2::zeros((0, dim)))
        };
        Dataset {
            name: format!(
                "CIFAR-10 ({s}×{s}, {} train / {} test)",
                self.train_labels.len(),
                self.test_labels.len(),
                s = self.side
            ),
            x_train: conv(&self.train_pixels, self.train_labels.len()),
            y_train: self.train_labels.iter().map(|&y| usize::from(y)).collect(),
            x_test: conv(&self.test_pixels, self.test_labels.len()),
            y_test: self.test_labels.iter().map(|&y| usize::from(y)).collect(),
            num_classes: self.class_names.len(),
            class_names: self.class_names.clone(),
            image_shape: Some((self.channels, self.side, self.side)),
        }
    }
}

/// Parses a prepared file (as fetched by the browser) into a [`Dataset`].
pub fn parse_prepared(bytes: &[u8]) -> Result<Dataset, DataError> {
    Ok(Prepared::parse(bytes)?.to_dataset())
}

/// Checks that `side` is a valid target side (divides 32).
pub fn check_side(side: usize) -> Result<(), DataError> {
    if side == 0 || side > NATIVE_SIDE || !NATIVE_SIDE.is_multiple_of(side) {
        return Err(DataError::Request(format!(
            "image size must divide 32 (allowed: 1, 2, 4, 8, 16, 32), got {side}"
        )));
    }
    Ok(())
}

/// Area-averaging downsampling of one CHW u8 image from `from`×`from` to `to`×`to`
/// (`to` must divide `from`); see the module doc for the exact rounding.
pub fn downsample_chw(
    src: &[u8],
    channels: usize,
    from: usize,
    to: usize,
) -> Result<Vec<u8>, DataError> {
    if to == 0 || !from.is_multiple_of(to) {
        return Err(DataError::Request(format!(
            "cannot area-average {from}×{from} to {to}×{to}: the target side must divide {from}"
        )));
    }
    if src.len() != channels * from * from {
        return Err(DataError::Invalid(format!(
            "image has {} bytes, expected {channels}×{from}×{from}",
            src.len()
        )));
    }
    let f = from / to;
    let area = (f * f) as u32;
    let mut out = Vec::with_capacity(channels * to * to);
    for c in 0..channels {
        let plane = &src[c * from * from..(c + 1) * from * from];
        for i in 0..to {
            for j in 0..to {
                let mut sum = 0u32;
                for di in 0..f {
                    let row = &plane[(i * f + di) * from + j * f..(i * f + di) * from + j * f + f];
                    sum += row.iter().map(|&v| u32::from(v)).sum::<u32>();
                }
                out.push(((sum + area / 2) / area) as u8);
            }
        }
    }
    Ok(out)
}

/// Reorders one image from HWC (interleaved, as in PNG rows) to CHW (planes).
pub fn hwc_to_chw(src: &[u8], channels: usize, height: usize, width: usize) -> Vec<u8> {
    let mut out = vec![0u8; channels * height * width];
    for p in 0..(height * width).min(src.len() / channels.max(1)) {
        for c in 0..channels {
            out[c * height * width + p] = src[p * channels + c];
        }
    }
    out
}

/// Picks `n` indices with as equal a count per class as possible (the first `n mod K` classes
/// get one more), each class's members chosen uniformly without replacement, then shuffles the
/// result. Deterministic in `rng`. Errors when a class has too few members.
pub fn balanced_indices(
    labels: &[u8],
    num_classes: usize,
    n: usize,
    rng: &mut Rng,
) -> Result<Vec<usize>, DataError> {
    if num_classes == 0 {
        return Err(DataError::Request("no classes".into()));
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); num_classes];
    for (i, &y) in labels.iter().enumerate() {
        let y = usize::from(y);
        if y >= num_classes {
            return Err(DataError::Invalid(format!(
                "label {y} at index {i} out of range (there are {num_classes} classes)"
            )));
        }
        members[y].push(i);
    }
    let mut out = Vec::with_capacity(n);
    for (c, m) in members.iter_mut().enumerate() {
        let quota = n / num_classes + usize::from(c < n % num_classes);
        if quota > m.len() {
            return Err(DataError::Request(format!(
                "asked for {n} class-balanced samples, which needs {quota} of class {c}, but only {} exist",
                m.len()
            )));
        }
        let pick = rng.sample_indices(m.len(), quota);
        out.extend(pick.into_iter().map(|i| m[i]));
    }
    rng.shuffle(&mut out);
    Ok(out)
}

/// Builds a [`Prepared`] set from full-resolution CHW u8 images (32×32, `channels` planes) by
/// class-balanced seeded selection and area averaging. `train_*`/`test_*` are all available
/// images of each split; `seed` fixes the selection.
#[allow(clippy::too_many_arguments)]
pub fn prepare_from_images(
    train_images: &[u8],
    train_labels: &[u8],
    test_images: &[u8],
    test_labels: &[u8],
    channels: usize,
    side: usize,
    n_train: usize,
    n_test: usize,
    seed: u64,
) -> Result<Prepared, DataError> {
    check_side(side)?;
    let full = channels * NATIVE_SIDE * NATIVE_SIDE;
    let k = CLASS_NAMES.len();
    let mut rng = Rng::derive(seed, "cifar-select");
    let mut one = |images: &[u8], labels: &[u8], n: usize, what: &str| {
        if images.len() != labels.len() * full {
            return Err(DataError::Invalid(format!(
                "{what}: {} pixel bytes for {} labels of 32×32×{channels} images",
                images.len(),
                labels.len()
            )));
        }
        let idx = balanced_indices(labels, k, n, &mut rng)
            .map_err(|e| DataError::Request(format!("{what}: {e}")))?;
        let mut px = Vec::with_capacity(n * channels * side * side);
        let mut ys = Vec::with_capacity(n);
        for i in idx {
            px.extend(downsample_chw(
                &images[i * full..(i + 1) * full],
                channels,
                NATIVE_SIDE,
                side,
            )?);
            ys.push(labels[i]);
        }
        Ok((ys, px))
    };
    let train = one(train_images, train_labels, n_train, "train")?;
    let test = one(test_images, test_labels, n_test, "test")?;
    Prepared::cifar10(channels, side, train, test)
}

/// Parses official CIFAR-10 binary batches dropped by the user and downsamples them to
/// `side`×`side`, keeping the compact u8 form.
///
/// Files named `data_batch_<N>.bin` form the training split and `test_batch.bin` the test split
/// (only the base name counts; case-insensitive). Without a test file, every 5th training record
/// (indices 4, 9, 14, …) is held out as the test split. Records keep their file order (files
/// sorted by name). The same content given twice (under one name or two) is refused.
pub fn official_bin_to_prepared(
    files: &[(&str, &[u8])],
    side: usize,
) -> Result<Prepared, DataError> {
    check_side(side)?;
    if files.is_empty() {
        return Err(DataError::Request(
            "no files given (expected data_batch_1.bin … data_batch_5.bin and/or test_batch.bin)"
                .into(),
        ));
    }
    let mut sorted: Vec<(String, &[u8])> = Vec::with_capacity(files.len());
    for &(name, bytes) in files {
        let base = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(name)
            .to_ascii_lowercase();
        sorted.push((base, bytes));
    }
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    refuse_repeated_files(&sorted)?;
    let mut train: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut test: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut have_test = false;
    for (name, bytes) in &sorted {
        let is_test = name == "test_batch.bin";
        let is_train = name
            .strip_prefix("data_batch_")
            .and_then(|s| s.strip_suffix(".bin"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_test && !is_train {
            return Err(DataError::Invalid(format!(
                "'{name}' is not a CIFAR-10 binary batch (expected data_batch_N.bin or test_batch.bin)"
            )));
        }
        if bytes.is_empty() {
            return Err(DataError::Invalid(format!("'{name}' is empty")));
        }
        if !bytes.len().is_multiple_of(OFFICIAL_RECORD) {
            return Err(DataError::Invalid(format!(
                "'{name}' has {} bytes, not a whole number of {OFFICIAL_RECORD}-byte records \
                 (1 label + 3072 pixels): truncated or not the binary version of CIFAR-10",
                bytes.len()
            )));
        }
        for (r, rec) in bytes.chunks_exact(OFFICIAL_RECORD).enumerate() {
            let y = rec[0];
            if usize::from(y) >= CLASS_NAMES.len() {
                return Err(DataError::Invalid(format!(
                    "'{name}' record {r}: label {y} out of range 0..=9 (is this CIFAR-100?)"
                )));
            }
            let px = downsample_chw(&rec[1..], 3, NATIVE_SIDE, side)?;
            if is_test {
                test.push((y, px));
            } else {
                train.push((y, px));
            }
        }
        have_test |= is_test;
    }
    if !have_test {
        let mut kept = Vec::with_capacity(train.len());
        for (i, r) in train.into_iter().enumerate() {
            if i % 5 == 4 {
                test.push(r);
            } else {
                kept.push(r);
            }
        }
        train = kept;
    }
    if train.is_empty() {
        return Err(DataError::Invalid(
            "no training records (drop at least one data_batch_N.bin)".into(),
        ));
    }
    let split = |v: Vec<(u8, Vec<u8>)>| {
        let labels = v.iter().map(|r| r.0).collect::<Vec<u8>>();
        let pixels = v.into_iter().flat_map(|r| r.1).collect::<Vec<u8>>();
        (labels, pixels)
    };
    Prepared::cifar10(3, side, split(train), split(test))
}

/// The same batch given twice (dropped twice, or a renamed copy) would duplicate its records:
/// files are compared by content, and a repeat is an error naming both.
fn refuse_repeated_files(files: &[(String, &[u8])]) -> Result<(), DataError> {
    for (k, (name, bytes)) in files.iter().enumerate() {
        // Slices compare with an early exit, so distinct batches differ within bytes.
        if let Some((first, _)) = files[..k].iter().find(|(_, b)| b == bytes) {
            let what = if first == name {
                format!("'{name}' was given twice")
            } else {
                format!("'{name}' holds the same records as '{first}' (a copy given twice?)")
            };
            return Err(DataError::Invalid(format!(
                "{what}: its records would be read twice — give each batch once"
            )));
        }
    }
    Ok(())
}

/// Parses official CIFAR-10 binary batches into a [`Dataset`] of `side`×`side` images (see
/// [`official_bin_to_prepared`] for the file naming and split rules).
pub fn parse_official_bin(files: &[(&str, &[u8])], side: usize) -> Result<Dataset, DataError> {
    Ok(official_bin_to_prepared(files, side)?.to_dataset())
}
