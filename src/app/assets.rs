//! Loaded (not generated) data sets: which file a run needs, its download state, and a cache.
//!
//! The lab never blocks on I/O: when a run needs `data/cifar10-16.bin` the lab records the
//! request, keeps showing (and training) the current run, and the browser shell fetches the
//! file in the background and hands the bytes back with [`Assets::finish`]. A missing file
//! turns into a message that names the command that prepares it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::data::Dataset;
use crate::data::cifar::parse_prepared;

/// Download state of one asset.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetStatus {
    /// Requested, not yet picked up by the shell.
    Wanted,
    /// Being fetched: bytes received so far and the total, if the server said.
    Loading {
        /// Bytes received.
        received: usize,
        /// Content length.
        total: Option<usize>,
    },
}

/// Asset requests and the cache of parsed data sets.
#[derive(Default)]
pub struct Assets {
    /// Parsed data sets by asset path (shared by every run on them).
    pub loaded: BTreeMap<String, Arc<Dataset>>,
    /// The prepared files' bytes by asset path (each worker parses its own copy).
    pub files: BTreeMap<String, Arc<[u8]>>,
    /// In-flight requests by asset path.
    pub pending: BTreeMap<String, AssetStatus>,
}

/// How to obtain each prepared file (shown when it is missing).
pub fn how_to_prepare(path: &str) -> String {
    let size = path
        .trim_start_matches("data/cifar10-")
        .trim_end_matches(".bin");
    format!(
        "'{path}' is not on this server. Prepare it with `scripts/prepare-data.sh` \
         (or `alphacl prepare-cifar --size {size} --out web/data/`), then rebuild with \
         `scripts/serve.sh`. You can also drop the official CIFAR-10 binary files \
         (data_batch_1.bin … test_batch.bin) onto the page. Meanwhile the lab keeps working on toy data."
    )
}

impl Assets {
    /// Paths the shell should start fetching (each returned once; marked Loading).
    pub fn take_wanted(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for (p, s) in &mut self.pending {
            if *s == AssetStatus::Wanted {
                *s = AssetStatus::Loading {
                    received: 0,
                    total: None,
                };
                out.push(p.clone());
            }
        }
        out
    }

    /// Asks for `path` unless it is loaded or already pending.
    pub fn want(&mut self, path: &str) {
        if !self.loaded.contains_key(path) {
            self.pending
                .entry(path.to_string())
                .or_insert(AssetStatus::Wanted);
        }
    }

    /// Records download progress.
    pub fn progress(&mut self, path: &str, received: usize, total: Option<usize>) {
        if let Some(s) = self.pending.get_mut(path) {
            *s = AssetStatus::Loading { received, total };
        }
    }

    /// Completes a download: parses the bytes, caches the data set, or explains the failure.
    pub fn finish(&mut self, path: &str, bytes: Result<Vec<u8>, String>) -> Result<(), String> {
        self.pending.remove(path);
        let bytes = bytes.map_err(|e| format!("{} ({e})", how_to_prepare(path)))?;
        let data = parse_prepared(&bytes)
            .map_err(|e| format!("'{path}' is not a valid prepared data file: {e}"))?;
        self.insert(path, data, bytes);
        Ok(())
    }

    /// Caches a parsed data set with the prepared bytes it came from.
    pub fn insert(&mut self, path: &str, data: Dataset, bytes: Vec<u8>) {
        self.loaded.insert(path.to_string(), Arc::new(data));
        self.files.insert(path.to_string(), bytes.into());
    }

    /// A one-line description of in-flight downloads, for the UI.
    pub fn progress_text(&self) -> Option<String> {
        let (p, s) = self.pending.iter().next()?;
        Some(match s {
            AssetStatus::Wanted => format!("waiting to load {p}…"),
            AssetStatus::Loading {
                received,
                total: Some(t),
            } if *t > 0 => format!(
                "loading {p}: {:.1} / {:.1} MB ({:.0}%)",
                *received as f64 / 1e6,
                *t as f64 / 1e6,
                100.0 * *received as f64 / *t as f64
            ),
            AssetStatus::Loading { received, .. } => {
                format!("loading {p}: {:.1} MB", *received as f64 / 1e6)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_says_how_to_prepare_it() {
        let mut a = Assets::default();
        a.want("data/cifar10-16.bin");
        assert_eq!(a.take_wanted(), vec!["data/cifar10-16.bin".to_string()]);
        assert!(
            a.take_wanted().is_empty(),
            "each request is handed out once"
        );
        let e = a
            .finish("data/cifar10-16.bin", Err("HTTP 404".into()))
            .unwrap_err();
        assert!(
            e.contains("scripts/prepare-data.sh") && e.contains("HTTP 404"),
            "{e}"
        );
        assert!(a.pending.is_empty());
    }

    #[test]
    fn garbage_bytes_are_rejected_without_caching() {
        let mut a = Assets::default();
        a.want("data/cifar10-16.bin");
        let e = a
            .finish("data/cifar10-16.bin", Ok(vec![1, 2, 3]))
            .unwrap_err();
        assert!(e.contains("not a valid prepared data file"), "{e}");
        assert!(a.loaded.is_empty());
    }
}
