//! Offline import from folders and `.tar`/`.tar.gz` archives, verified like a download.

mod common;

use std::path::Path;

use common::{Fixture, Style, fixture, listing};
use scratchnet_mnist::{
    ImportOptions, MnistError, MnistFile, Source, import, import_with, load_raw,
};

fn opts(fx: &Fixture) -> ImportOptions {
    ImportOptions {
        checksums: fx.checksums.clone(),
        force: false,
    }
}

fn tar_of(fx: &Fixture, style: Style, folder: &str, gzip_archive: bool) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for f in MnistFile::ALL {
        let data = fx.bytes(f, style.gzip);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(
            &mut h,
            format!("{folder}{}", Fixture::name(f, style)),
            &data[..],
        )
        .unwrap();
    }
    let tar = b.into_inner().unwrap();
    if gzip_archive {
        scratchnet_mnist::idx::gzip(&tar)
    } else {
        tar
    }
}

fn check_loaded(dir: &Path, fx: &Fixture) {
    let raw = load_raw(dir).unwrap();
    assert_eq!(raw.train.images.as_slice().unwrap(), &fx.train_pixels[..]);
    assert_eq!(raw.test.labels.to_vec(), fx.test_labels);
}

#[test]
fn from_a_folder_in_either_style() {
    for style in [
        Style {
            gzip: false,
            dotted: true,
        },
        Style {
            gzip: true,
            dotted: false,
        },
    ] {
        let fx = fixture(5, 3, 51);
        let src = tempfile::tempdir().unwrap();
        fx.write(src.path(), style);
        let dst = tempfile::tempdir().unwrap();
        let r = import_with(src.path(), dst.path(), &opts(&fx)).unwrap();
        assert_eq!(r.copied(), 4);
        for f in &r.files {
            assert_eq!(
                f.source,
                Source::Local(
                    src.path()
                        .join(Fixture::name(f.file, style))
                        .display()
                        .to_string()
                )
            );
            // Stored under the standard name, compressed as it came.
            let want = if style.gzip {
                f.file.remote_name()
            } else {
                f.file.stem().to_string()
            };
            assert!(f.path.ends_with(want));
        }
        check_loaded(dst.path(), &fx);
    }
}

#[test]
fn from_tar_and_tar_gz_in_a_subfolder() {
    let fx = fixture(5, 3, 52);
    for (gz_archive, style) in [
        (
            false,
            Style {
                gzip: true,
                dotted: false,
            },
        ),
        (
            true,
            Style {
                gzip: false,
                dotted: true,
            },
        ),
    ] {
        let work = tempfile::tempdir().unwrap();
        let archive = work.path().join(if gz_archive {
            "mnist.tar.gz"
        } else {
            "mnist.tar"
        });
        std::fs::write(&archive, tar_of(&fx, style, "mnist/", gz_archive)).unwrap();
        let dst = work.path().join("data");
        let r = import_with(&archive, &dst, &opts(&fx)).unwrap();
        assert_eq!(r.copied(), 4);
        let first = &r.files[0];
        assert_eq!(
            first.source,
            Source::Local(format!(
                "{}:mnist/{}",
                archive.display(),
                Fixture::name(MnistFile::TrainImages, style)
            ))
        );
        check_loaded(&dst, &fx);
        // Again: everything is already there.
        let again = import_with(&archive, &dst, &opts(&fx)).unwrap();
        assert!(
            again
                .files
                .iter()
                .all(|f| f.source == Source::AlreadyPresent)
        );
    }
}

#[test]
fn archive_missing_a_file_is_an_error() {
    let fx = fixture(2, 2, 53);
    let mut b = tar::Builder::new(Vec::new());
    let data = fx.bytes(MnistFile::TrainImages, true);
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_cksum();
    b.append_data(&mut h, "train-images-idx3-ubyte.gz", &data[..])
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("partial.tar");
    std::fs::write(&archive, b.into_inner().unwrap()).unwrap();
    let e = import_with(&archive, work.path().join("d"), &opts(&fx)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cannot import MNIST from {}: the archive has no train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
             t10k-labels-idx1-ubyte (raw or .gz, either naming style)",
            archive.display()
        )
    );
}

#[test]
fn folder_missing_a_file_is_an_error_before_copying() {
    let fx = fixture(2, 2, 54);
    let src = tempfile::tempdir().unwrap();
    fx.write(
        src.path(),
        Style {
            gzip: true,
            dotted: false,
        },
    );
    std::fs::remove_file(src.path().join("train-labels-idx1-ubyte.gz")).unwrap();
    let dst = tempfile::tempdir().unwrap();
    let e = import_with(src.path(), dst.path(), &opts(&fx)).unwrap_err();
    assert!(
        e.to_string()
            .ends_with(": no train-labels-idx1-ubyte (raw or .gz, either naming style)"),
        "{e}"
    );
    assert!(listing(dst.path()).is_empty());
}

#[test]
fn wrong_content_is_refused_and_nothing_is_left() {
    let fx = fixture(3, 2, 55);
    let src = tempfile::tempdir().unwrap();
    fixture(3, 2, 56).write(
        src.path(),
        Style {
            gzip: true,
            dotted: false,
        },
    );
    let dst = tempfile::tempdir().unwrap();
    let e = import_with(src.path(), dst.path(), &opts(&fx)).unwrap_err();
    assert!(matches!(e, MnistError::ChecksumMismatch { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("train-images-idx3-ubyte.gz: SHA-256 of the decompressed bytes is "),
        "{e}"
    );
    assert!(listing(dst.path()).is_empty(), "{:?}", listing(dst.path()));
}

#[test]
fn not_an_archive() {
    let work = tempfile::tempdir().unwrap();
    let p = work.path().join("notes.txt");
    std::fs::write(&p, vec![b'x'; 2000]).unwrap();
    let e = import(&p, work.path().join("d")).unwrap_err();
    assert!(matches!(e, MnistError::Import { .. }), "{e}");
    let e = import(work.path().join("nope"), work.path().join("d")).unwrap_err();
    assert!(
        e.to_string().ends_with("nope: no such folder or archive"),
        "{e}"
    );
}

#[test]
fn force_copies_again() {
    let fx = fixture(2, 2, 57);
    let src = tempfile::tempdir().unwrap();
    fx.write(
        src.path(),
        Style {
            gzip: true,
            dotted: false,
        },
    );
    let dst = tempfile::tempdir().unwrap();
    import_with(src.path(), dst.path(), &opts(&fx)).unwrap();
    let r = import_with(
        src.path(),
        dst.path(),
        &ImportOptions {
            force: true,
            ..opts(&fx)
        },
    )
    .unwrap();
    assert_eq!(r.copied(), 4);
}

#[test]
fn a_shadowing_gzip_of_another_data_set_stops_the_import_unless_forced() {
    let fx = fixture(3, 2, 58);
    let dst = tempfile::tempdir().unwrap();
    let theirs = fixture(3, 2, 59);
    let gz = Style {
        gzip: true,
        dotted: false,
    };
    theirs.write(dst.path(), gz);
    let src = tempfile::tempdir().unwrap();
    fx.write(
        src.path(),
        Style {
            gzip: false,
            dotted: false,
        },
    );
    let e = import_with(src.path(), dst.path(), &opts(&fx)).unwrap_err();
    assert!(matches!(e, MnistError::Unverified { .. }), "{e}");
    assert!(e.to_string().contains("it was left as it is"), "{e}");
    assert_eq!(listing(dst.path()).len(), 4);

    // Forced: the raw verified files go in, the .gz files that would shadow them are kept aside.
    let r = import_with(
        src.path(),
        dst.path(),
        &ImportOptions {
            force: true,
            ..opts(&fx)
        },
    )
    .unwrap();
    for f in &r.files {
        assert!(f.replaced.is_some(), "{f}");
        assert_eq!(f.moved_aside.len(), 1, "{f}");
        assert_eq!(
            std::fs::read(&f.moved_aside[0]).unwrap(),
            theirs.bytes(f.file, true)
        );
    }
    assert_eq!(listing(dst.path()).len(), 8);
    check_loaded(dst.path(), &fx);
}
