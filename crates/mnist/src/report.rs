//! What [`crate::import`] and `download::fetch` did for each file.

use std::fmt;
use std::path::PathBuf;

use crate::checksum::FileDigest;
use crate::{Attempt, MnistFile};

/// Where a file in the data folder came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// It was there already and verified, so nothing was copied.
    AlreadyPresent,
    /// Downloaded from this URL.
    Url(String),
    /// Copied from this local file or archive member (`archive.tar.gz:member`).
    Local(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::AlreadyPresent => f.write_str("already present"),
            Source::Url(u) => write!(f, "from {u}"),
            Source::Local(p) => write!(f, "from {p}"),
        }
    }
}

/// The outcome for one of the four files: always a verified file, since failures are errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// Which file.
    pub file: MnistFile,
    /// Where it now is.
    pub path: PathBuf,
    /// Where it came from.
    pub source: Source,
    /// Its verified digest (the SHA-256 of its decompressed bytes matched the expected one).
    pub digest: FileDigest,
    /// Sources tried before the one that worked, with their causes.
    pub failed: Vec<Attempt>,
    /// Why a file that was already there was replaced, if it was (only ever with `force`).
    pub replaced: Option<String>,
    /// Where the files this one displaced were moved (`NAME.bad-<unix time>`): never deleted.
    pub moved_aside: Vec<PathBuf>,
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}, verified (SHA-256 {}..., {} bytes decompressed)",
            self.path.display(),
            self.source,
            &self.digest.sha256[..16.min(self.digest.sha256.len())],
            self.digest.len
        )?;
        if let Some(why) = &self.replaced {
            write!(f, "; replaced the previous file ({why})")?;
        }
        for p in &self.moved_aside {
            write!(f, "; the previous file is kept as {}", p.display())?;
        }
        for a in &self.failed {
            write!(f, "\n    tried first: {a}")?;
        }
        Ok(())
    }
}

/// One [`FileReport`] per MNIST file, in [`MnistFile::ALL`] order.
///
/// ```
/// let r = scratchnet_mnist::FetchReport {
///     dir: "data/mnist".into(),
///     files: vec![],
///     removed_temps: vec![],
/// };
/// assert_eq!(r.copied(), 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchReport {
    /// The data folder.
    pub dir: PathBuf,
    /// The four files.
    pub files: Vec<FileReport>,
    /// Temp files of an earlier fetch that was killed, removed before this one started.
    pub removed_temps: Vec<PathBuf>,
}

impl FetchReport {
    /// How many files were downloaded or copied (not already present).
    pub fn copied(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.source != Source::AlreadyPresent)
            .count()
    }
}

impl fmt::Display for FetchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut line = |f: &mut fmt::Formatter<'_>| {
            let sep = if first { "" } else { "\n" };
            first = false;
            f.write_str(sep)
        };
        for p in &self.removed_temps {
            line(f)?;
            write!(f, "removed {}, left by an interrupted fetch", p.display())?;
        }
        for file in &self.files {
            line(f)?;
            write!(f, "{file}")?;
        }
        Ok(())
    }
}
