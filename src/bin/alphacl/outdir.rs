//! The output directory of `alphacl train --out DIR`: checked before training, never mixed.
//!
//! - [`RunDir::prepare`] runs before anything is trained: `DIR` must not be a file, its parent
//!   must be writable (a test file is created and removed), and an existing run directory (one
//!   holding any of [`RUN_FILES`]) is refused unless `--force`.
//! - A new `DIR`, or one without run outputs (e.g. a log the caller put there), is written in
//!   place. With `--force` on an existing run directory the outputs
//!   go to a staging directory beside it (`.DIR.partial-PID`) and [`RunDir::finish`] swaps it
//!   in whole, so files from the old run never mix with the new one.
//! - [`RunDir::write`] writes every file under a temporary name and renames it, so a reader
//!   (or a crash) never sees half a file; every error names the file it was writing.

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};

/// The files `alphacl train --out` writes; a directory holding any of them is a run directory.
pub const RUN_FILES: &[&str] = &[
    "metrics.csv",
    "run.json",
    "weights.json",
    "curves.png",
    "curves.svg",
    "spectrum.png",
    "spectrum.svg",
    "alpha.png",
    "alpha.svg",
];

/// Where a run writes its files.
pub struct RunDir {
    /// The directory the user asked for.
    target: PathBuf,
    /// Where files are written now (`target`, or the staging directory under `--force`).
    dir: PathBuf,
}

impl RunDir {
    /// Checks `out` and creates the directory the run writes to (see the module docs).
    pub fn prepare(out: &Path, force: bool) -> Result<Self> {
        if out.is_file() {
            bail!(
                "--out {}: is a file, not a directory (give a directory for the run's outputs)",
                out.display()
            );
        }
        if let Some(bad) = out.ancestors().skip(1).find(|a| a.is_file()) {
            bail!(
                "--out {}: {} is a file, so this directory cannot be created",
                out.display(),
                bad.display()
            );
        }
        let existing = RUN_FILES
            .iter()
            .find(|f| out.is_dir() && out.join(f).exists());
        if let (Some(f), false) = (existing, force) {
            bail!(
                "--out {}: holds another run's outputs ({f}, …); pass --force to replace the directory whole, or choose another one",
                out.display()
            );
        }
        let existing = existing.is_some();
        let dir = if existing {
            let name = out
                .file_name()
                .map_or("run".into(), |n| n.to_string_lossy().to_string());
            let parent = out.parent().unwrap_or(Path::new("."));
            parent.join(format!(".{name}.partial-{}", std::process::id()))
        } else {
            out.to_path_buf()
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("--out {}: creating {}", out.display(), dir.display()))?;
        let probe = dir.join(format!(".write-test-{}", std::process::id()));
        std::fs::write(&probe, b"ok").with_context(|| {
            format!(
                "--out {}: cannot write into {}",
                out.display(),
                dir.display()
            )
        })?;
        let _ = std::fs::remove_file(&probe);
        Ok(Self {
            target: out.to_path_buf(),
            dir,
        })
    }

    /// The directory the user asked for.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes `name` atomically: to a temporary name first, then renamed into place.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let shown = self.target.join(name);
        let res = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("writing {}", shown.display()));
        }
        Ok(())
    }

    /// Moves a staging directory into place (replacing the old run whole); nothing to do when
    /// the run was written in place.
    pub fn finish(self) -> Result<()> {
        if self.dir == self.target {
            return Ok(());
        }
        let old = self.dir.with_file_name(format!(
            "{}.old",
            self.dir.file_name().unwrap_or_default().to_string_lossy()
        ));
        std::fs::rename(&self.target, &old)
            .with_context(|| format!("moving the old {} aside", self.target.display()))?;
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            let _ = std::fs::rename(&old, &self.target);
            return Err(e).with_context(|| {
                format!(
                    "moving the new run into {} (it is in {})",
                    self.target.display(),
                    self.dir.display()
                )
            });
        }
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("removing the old run's files from {}", old.display()))
    }
}
