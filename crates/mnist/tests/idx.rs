//! The IDX reader on generated files: both compressions, both naming styles, and every
//! malformed case as a typed error naming the file.

mod common;

use std::path::Path;

use byteorder::{BigEndian, ByteOrder};
use common::{Style, fixture};
use scratchnet_mnist::idx::{self, IdxSource, MAX_DATA_BYTES, encode_images, encode_labels, gzip};
use scratchnet_mnist::{MnistError, MnistFile, load_raw_uncached, missing_files};

fn images(bytes: Vec<u8>) -> Result<idx::IdxImages, MnistError> {
    let p = Path::new("imgs");
    IdxSource::from_reader(std::io::Cursor::new(bytes), p)?.read_images(p)
}

fn labels(bytes: Vec<u8>) -> Result<Vec<u8>, MnistError> {
    let p = Path::new("labs");
    IdxSource::from_reader(std::io::Cursor::new(bytes), p)?.read_labels(p)
}

#[test]
fn reads_raw_and_gzip_alike() {
    let pixels: Vec<u8> = (0..2 * 3 * 4).map(|v| v as u8 * 10).collect();
    let raw = encode_images(3, 4, &pixels);
    for bytes in [raw.clone(), gzip(&raw)] {
        let img = images(bytes).unwrap();
        assert_eq!((img.count, img.rows, img.cols), (2, 3, 4));
        assert_eq!(img.pixels, pixels);
    }
    let l = encode_labels(&[0, 9, 5]);
    assert_eq!(labels(gzip(&l)).unwrap(), vec![0, 9, 5]);
    assert_eq!(labels(l).unwrap(), vec![0, 9, 5]);
}

#[test]
fn multi_member_gzip_is_read_whole() {
    let l = encode_labels(&[1, 2, 3, 4]);
    let mut two = gzip(&l[..6]);
    two.extend(gzip(&l[6..]));
    assert_eq!(labels(two).unwrap(), vec![1, 2, 3, 4]);
}

#[test]
fn every_naming_style_and_compression_loads_the_same() {
    let fx = fixture(7, 4, 21);
    for gzip in [true, false] {
        for dotted in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            fx.write(dir.path(), Style { gzip, dotted });
            assert!(missing_files(dir.path()).is_empty());
            let raw = load_raw_uncached(dir.path()).unwrap();
            assert_eq!(
                raw.train.images.as_slice().unwrap(),
                &fx.train_pixels[..],
                "gzip={gzip} dotted={dotted}"
            );
            assert_eq!(raw.train.labels.to_vec(), fx.train_labels);
            assert_eq!(raw.test.images.as_slice().unwrap(), &fx.test_pixels[..]);
            assert_eq!(raw.test.labels.to_vec(), fx.test_labels);
        }
    }
}

#[test]
fn wrong_magic() {
    let e = images(encode_labels(&[1, 2])).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::BadMagic {
                found: 2049,
                expected: 2051,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "imgs: magic number 2049 (0x00000801), expected 2051 (0x00000803) for IDX images"
    );
    let e = labels(encode_images(1, 1, &[0])).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::BadMagic {
                found: 2051,
                expected: 2049,
                ..
            }
        ),
        "{e}"
    );
    let e = labels(b"PK\x03\x04 a zip file".to_vec()).unwrap_err();
    assert!(matches!(e, MnistError::BadMagic { .. }), "{e}");
}

#[test]
fn short_header() {
    for n in 0..16 {
        let e = images(encode_images(28, 28, &[0; 784])[..n].to_vec()).unwrap_err();
        if n < 4 {
            assert!(
                matches!(e, MnistError::TruncatedHeader { len, header: 16, .. } if len == n),
                "{e}"
            );
        } else {
            assert!(matches!(e, MnistError::TruncatedHeader { .. }), "{n}: {e}");
        }
    }
    let e = labels(encode_labels(&[1])[..7].to_vec()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "labs: only 7 bytes, shorter than the 8-byte IDX header"
    );
}

#[test]
fn truncated_data() {
    let full = encode_images(2, 2, &[1; 12]);
    let e = images(full[..full.len() - 5].to_vec()).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::Truncated {
                expected: 12,
                actual: 7,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "imgs: header promises 12 data bytes but only 7 follow"
    );
    let e = labels(encode_labels(&[1, 2, 3])[..9].to_vec()).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::Truncated {
                expected: 3,
                actual: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn truncated_gzip_stream() {
    let gz = gzip(&encode_images(28, 28, &[7; 784 * 3]));
    let e = images(gz[..gz.len() - 10].to_vec()).unwrap_err();
    assert!(
        matches!(e, MnistError::Gzip { .. } | MnistError::Truncated { .. }),
        "{e}"
    );
}

#[test]
fn corrupt_gzip_stream() {
    let mut gz = gzip(&encode_labels(&[1; 1000]));
    let n = gz.len();
    gz[n - 8] ^= 0xff; // the CRC-32 in the gzip trailer
    let e = labels(gz).unwrap_err();
    assert!(matches!(e, MnistError::Gzip { .. }), "{e}");
    assert!(
        e.to_string().starts_with("labs: corrupt gzip data: "),
        "{e}"
    );
}

#[test]
fn trailing_data() {
    let mut b = encode_labels(&[1, 2]);
    b.push(3);
    let e = labels(b).unwrap_err();
    assert!(
        matches!(e, MnistError::TrailingData { expected: 2, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "labs: more data than the 2 bytes the header promises"
    );
}

#[test]
fn absurd_counts_are_refused_without_allocating() {
    // 4 billion images of 28x28: 3.4 TB claimed by a 16-byte file.
    let mut b = encode_images(28, 28, &[]);
    BigEndian::write_u32(&mut b[4..], 4_000_000_000);
    let e = images(b).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::TooLarge {
                count: 4_000_000_000,
                total: 3_136_000_000_000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "imgs: header claims 4000000000 items of 784 bytes = 3136000000000 bytes, over the {MAX_DATA_BYTES}-byte limit"
        )
    );
    // u32::MAX rows and cols: the product overflows u64 unless computed wide.
    let mut b = encode_images(1, 1, &[0]);
    for off in [4, 8, 12] {
        BigEndian::write_u32(&mut b[off..], u32::MAX);
    }
    assert!(matches!(
        images(b).unwrap_err(),
        MnistError::TooLarge { .. }
    ));
    // Under the limit but far beyond the data: an ordinary truncation, found by reading.
    let mut b = encode_labels(&[1]);
    BigEndian::write_u32(&mut b[4..], 1 << 29);
    assert!(matches!(
        labels(b).unwrap_err(),
        MnistError::Truncated {
            expected: 536_870_912,
            actual: 1,
            ..
        }
    ));
}

#[test]
fn labels_must_be_digits() {
    let e = labels(encode_labels(&[0, 9, 10, 3])).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::BadLabel {
                index: 2,
                value: 10,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.to_string(), "labs: label #2 is 10, labels must be 0-9");
}

#[test]
fn images_must_be_28_by_28() {
    let fx = fixture(2, 2, 22);
    let dir = tempfile::tempdir().unwrap();
    fx.write(
        dir.path(),
        Style {
            gzip: false,
            dotted: false,
        },
    );
    let p = dir.path().join(MnistFile::TestImages.stem());
    std::fs::write(&p, encode_images(14, 56, &[0; 784 * 2])).unwrap();
    let e = load_raw_uncached(dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::WrongImageSize {
                rows: 14,
                cols: 56,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!("{}: images are 14x56, MNIST images are 28x28", p.display())
    );
}

#[test]
fn image_and_label_counts_must_agree() {
    let fx = fixture(3, 2, 23);
    let dir = tempfile::tempdir().unwrap();
    fx.write(
        dir.path(),
        Style {
            gzip: true,
            dotted: false,
        },
    );
    let lp = dir.path().join(MnistFile::TrainLabels.remote_name());
    std::fs::write(&lp, gzip(&encode_labels(&[1, 2]))).unwrap();
    let e = load_raw_uncached(dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            MnistError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ),
        "{e}"
    );
    let ip = dir.path().join(MnistFile::TrainImages.remote_name());
    assert_eq!(
        e.to_string(),
        format!(
            "{} holds 3 images but {} holds 2 labels",
            ip.display(),
            lp.display()
        )
    );
}

#[test]
fn missing_files_are_named_with_the_fix() {
    let fx = fixture(1, 1, 24);
    let dir = tempfile::tempdir().unwrap();
    fx.write(
        dir.path(),
        Style {
            gzip: true,
            dotted: false,
        },
    );
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(missing_files(dir.path()), vec!["t10k-labels-idx1-ubyte"]);
    let e = load_raw_uncached(dir.path()).unwrap_err();
    assert!(
        matches!(&e, MnistError::MissingFiles { names, .. } if names == &["t10k-labels-idx1-ubyte"])
    );
    assert!(e.to_string().contains("cargo xtask fetch-mnist"), "{e}");
    // A library user outside this workspace gets the call and the feature it needs.
    assert!(
        e.to_string()
            .contains("`scratchnet_mnist::download::fetch` (feature \"download\")"),
        "{e}"
    );
}

#[test]
fn unreadable_path_is_an_io_error() {
    let e = idx::read_labels_file(Path::new("/nonexistent/labels")).unwrap_err();
    assert!(matches!(&e, MnistError::File(f) if f.is_not_found()), "{e}");
    assert!(
        e.to_string()
            .starts_with("cannot open /nonexistent/labels: "),
        "{e}"
    );
}
