//! Offline import: the four files from a local folder or a `.tar` / `.tar.gz`, raw or gzip,
//! either naming style, verified exactly like a download.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::report::{FetchReport, FileReport, Source};
use crate::store::{
    DirLock, Existing, Placed, check_existing, create_dir, refuse, remove_stray_parts, temp_for,
    verify_and_place,
};
use crate::{Checksums, MnistError, MnistFile};

/// Options of [`import_with`].
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Expected digests and sizes; [`Checksums::mnist`] by default.
    pub checksums: Checksums,
    /// Copy even the files that are already present and verified, and replace a file under an
    /// MNIST name that is not the expected content (renamed to `NAME.bad-<unix time>` once a
    /// verified copy is ready, never deleted). Without it such a file stops the import with
    /// [`MnistError::Unverified`].
    pub force: bool,
}

/// Imports MNIST from a folder or a `.tar`/`.tar.gz` archive into `dir`, verifying each file
/// against the published checksums: [`import_with`] with default options.
///
/// ```no_run
/// let report = scratchnet_mnist::import("downloads/mnist.tar.gz", "data/mnist")?;
/// println!("{report}");
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn import(from: impl AsRef<Path>, dir: impl AsRef<Path>) -> Result<FetchReport, MnistError> {
    import_with(from, dir, &ImportOptions::default())
}

/// Imports MNIST from a folder or a `.tar`/`.tar.gz` archive into `dir`.
///
/// Each file is looked up under any of its [`MnistFile::candidate_names`] (in an archive, by
/// the member's file name in any sub-folder), copied to a temp file in `dir`, verified by the
/// SHA-256 of its decompressed bytes and renamed to its standard name. Files already present
/// and verified are left alone unless `opts.force`; present but wrong ones stop the import
/// ([`MnistError::Unverified`]) unless `opts.force`, which keeps them as `NAME.bad-<unix time>`.
/// No more than [`Checksums::max_file_len`] bytes of a source file or archive member are
/// copied, and no more than the expected length decompressed: a 3 GB member of a small
/// `.tar.gz` is refused from its header, before a byte of it reaches the disk. The same lock
/// and temp-file cleanup as `download::fetch` apply.
///
/// ```
/// use scratchnet_mnist::{Checksums, ImportOptions, MnistFile, checksum::sha256_hex, idx};
/// let src = tempfile::tempdir().unwrap();
/// let bytes = MnistFile::ALL.map(|f| {
///     if f.is_images() { idx::encode_images(28, 28, &[9; 784]) } else { idx::encode_labels(&[9]) }
/// });
/// for (f, b) in MnistFile::ALL.iter().zip(&bytes) {
///     std::fs::write(src.path().join(f.stem()), b).unwrap();
/// }
/// let checksums = Checksums::new(bytes.clone().map(|b| (sha256_hex(&b), b.len() as u64)));
/// let opts = ImportOptions { checksums, ..Default::default() };
/// let dst = tempfile::tempdir().unwrap();
/// let report = scratchnet_mnist::import_with(src.path(), dst.path(), &opts).unwrap();
/// assert_eq!(report.copied(), 4);
/// assert!(scratchnet_mnist::missing_files(dst.path()).is_empty());
/// ```
pub fn import_with(
    from: impl AsRef<Path>,
    dir: impl AsRef<Path>,
    opts: &ImportOptions,
) -> Result<FetchReport, MnistError> {
    let (from, dir) = (from.as_ref(), dir.as_ref());
    create_dir(dir)?;
    let _lock = DirLock::acquire(dir)?;
    let removed_temps = remove_stray_parts(dir)?;
    let mut done: BTreeMap<MnistFile, FileReport> = BTreeMap::new();
    let mut replaced: BTreeMap<MnistFile, String> = BTreeMap::new();
    for file in MnistFile::ALL {
        match check_existing(dir, file, &opts.checksums)? {
            Existing::Verified(path, digest) if !opts.force => {
                done.insert(
                    file,
                    report(file, path, Source::AlreadyPresent, digest, None),
                );
            }
            Existing::Verified(..) | Existing::Missing => {}
            Existing::Mismatch { path, reason } if !opts.force => {
                return Err(refuse(path, reason));
            }
            Existing::Mismatch { reason, .. } => {
                replaced.insert(file, reason);
            }
        }
    }
    let needed: Vec<MnistFile> = MnistFile::ALL
        .into_iter()
        .filter(|f| !done.contains_key(f))
        .collect();
    if !needed.is_empty() {
        let ctx = Ctx { from, dir, opts };
        match std::fs::metadata(from) {
            Ok(m) if m.is_dir() => ctx.copy_from_folder(&needed, &mut replaced, &mut done)?,
            Ok(_) => ctx.copy_from_archive(&needed, &mut replaced, &mut done)?,
            Err(_) => {
                return Err(MnistError::Import {
                    from: from.into(),
                    reason: "no such folder or archive".into(),
                });
            }
        }
    }
    Ok(FetchReport {
        dir: dir.into(),
        files: done.into_values().collect(),
        removed_temps,
    })
}

fn report(
    file: MnistFile,
    path: std::path::PathBuf,
    source: Source,
    digest: crate::checksum::FileDigest,
    replaced: Option<String>,
) -> FileReport {
    FileReport {
        file,
        path,
        source,
        digest,
        failed: Vec::new(),
        replaced,
        moved_aside: Vec::new(),
    }
}

fn placed_report(
    file: MnistFile,
    p: Placed,
    source: Source,
    replaced: Option<String>,
) -> FileReport {
    FileReport {
        moved_aside: p.moved_aside,
        ..report(file, p.path, source, p.digest, replaced)
    }
}

struct Ctx<'a> {
    from: &'a Path,
    dir: &'a Path,
    opts: &'a ImportOptions,
}

impl Ctx<'_> {
    fn bad(&self, reason: String) -> MnistError {
        MnistError::Import {
            from: self.from.into(),
            reason,
        }
    }

    fn copy_from_folder(
        &self,
        needed: &[MnistFile],
        replaced: &mut BTreeMap<MnistFile, String>,
        done: &mut BTreeMap<MnistFile, FileReport>,
    ) -> Result<(), MnistError> {
        let missing: Vec<&str> = needed
            .iter()
            .filter(|f| f.find_in(self.from).is_none())
            .map(|f| f.stem())
            .collect();
        if !missing.is_empty() {
            return Err(self.bad(format!(
                "no {} (raw or .gz, either naming style)",
                missing.join(", ")
            )));
        }
        for &file in needed {
            let Some(src) = file.find_in(self.from) else {
                return Err(self.bad(format!("{} disappeared", file.stem())));
            };
            // Regular files only (a FIFO would block, a device never ends), bounded by size.
            let input = scratchnet_fileio::open_regular(&src)?;
            let what = src.display().to_string();
            let cap = self.opts.checksums.max_file_len(file);
            let size = input
                .metadata()
                .map_err(|e| MnistError::io("read the metadata of", &src, e))?
                .len();
            if size > cap {
                // Refused from its size: a 30 GB sparse file is not copied up to the cap first.
                return Err(self.bad(format!(
                    "{what} is {size} bytes, more than the {cap} any copy of {} can have",
                    file.stem()
                )));
            }
            let p = self.copy_verified(input, file, &what, &src)?;
            done.insert(
                file,
                placed_report(file, p, Source::Local(what), replaced.remove(&file)),
            );
        }
        Ok(())
    }

    fn copy_from_archive(
        &self,
        needed: &[MnistFile],
        replaced: &mut BTreeMap<MnistFile, String>,
        done: &mut BTreeMap<MnistFile, FileReport>,
    ) -> Result<(), MnistError> {
        let from = self.from;
        let file = scratchnet_fileio::open_regular(from)?;
        let mut buf = BufReader::with_capacity(1 << 16, file);
        let gzip = buf
            .fill_buf()
            .map_err(|e| MnistError::io("read", from, e))?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(buf))
        } else {
            Box::new(buf)
        };
        let kind = if gzip { "tar.gz" } else { "tar" };
        // The tar crate's messages can quote the header bytes it could not parse: binary
        // garbage on a terminal. Say what is wrong in words.
        let unreadable = |e: io::Error| {
            let why = if gzip && e.kind() != io::ErrorKind::Other {
                format!("corrupt gzip data ({})", e.kind())
            } else {
                format!("not a {kind} archive (no valid tar header where one should be)")
            };
            self.bad(why)
        };
        let mut archive = tar::Archive::new(reader);
        let entries = archive.entries().map_err(unreadable)?;
        for (index, entry) in entries.enumerate() {
            let mut entry = entry.map_err(unreadable)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let member = entry
                .path()
                .map_err(|_| self.bad(format!("member #{} has no readable name", index + 1)))?
                .into_owned();
            let Some(name) = member.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(&file) = needed
                .iter()
                .find(|f| f.candidate_names().iter().any(|c| c == name))
            else {
                continue;
            };
            if done.contains_key(&file) {
                continue;
            }
            let what = format!("{}:{}", from.display(), member.display());
            let cap = self.opts.checksums.max_file_len(file);
            let size = entry.header().size().unwrap_or(u64::MAX);
            if size > cap {
                return Err(self.bad(format!(
                    "{what} is {size} bytes, more than the {cap} any copy of {} can have",
                    file.stem()
                )));
            }
            let p = self.copy_verified(&mut entry, file, &what, from)?;
            done.insert(
                file,
                placed_report(file, p, Source::Local(what), replaced.remove(&file)),
            );
        }
        let missing: Vec<&str> = needed
            .iter()
            .filter(|f| !done.contains_key(f))
            .map(|f| f.stem())
            .collect();
        if !missing.is_empty() {
            return Err(self.bad(format!(
                "the archive has no {} (raw or .gz, either naming style)",
                missing.join(", ")
            )));
        }
        Ok(())
    }

    /// Copies at most the cap of `file` from `input` into a temp file, then verifies and places it.
    fn copy_verified(
        &self,
        input: impl Read,
        file: MnistFile,
        what: &str,
        src: &Path,
    ) -> Result<Placed, MnistError> {
        let cap = self.opts.checksums.max_file_len(file);
        let mut tmp = temp_for(self.dir, file)?;
        let copied = io::copy(&mut input.take(cap.saturating_add(1)), tmp.as_file_mut())
            .map_err(|e| MnistError::io("copy", src, e))?;
        if copied > cap {
            return Err(self.bad(format!(
                "{what} is more than {cap} bytes, more than any copy of {} can have",
                file.stem()
            )));
        }
        verify_and_place(
            tmp,
            self.dir,
            file,
            &self.opts.checksums,
            what,
            self.opts.force,
        )
    }
}
