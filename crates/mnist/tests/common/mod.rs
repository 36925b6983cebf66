//! Shared helpers of the integration tests: small generated MNIST-like data sets and a
//! minimal HTTP/1.1 server on 127.0.0.1.

#![allow(dead_code)] // each test binary uses a different subset

pub mod http;

use std::path::Path;

use scratchnet_mnist::checksum::sha256_hex;
use scratchnet_mnist::{Checksums, MnistFile, idx};

/// A generated data set in the MNIST layout (28×28 images, labels 0–9).
pub struct Fixture {
    /// Uncompressed IDX bytes of each file, in `MnistFile::ALL` order.
    pub idx: Vec<(MnistFile, Vec<u8>)>,
    /// The SHA-256 of those bytes.
    pub checksums: Checksums,
    pub train_pixels: Vec<u8>,
    pub train_labels: Vec<u8>,
    pub test_pixels: Vec<u8>,
    pub test_labels: Vec<u8>,
}

/// `train` and `test` examples with pixels from a fixed formula of `seed`.
pub fn fixture(train: usize, test: usize, seed: u32) -> Fixture {
    let pixels = |n: usize, salt: u32| -> Vec<u8> {
        (0..n * 784)
            .map(|i| {
                // A small integer hash, so that different seeds differ in most pixels.
                let mut h = (i as u32).wrapping_add(1).wrapping_mul(0x9E37_79B9)
                    ^ seed.wrapping_mul(0x85EB_CA6B)
                    ^ salt.wrapping_mul(0xC2B2_AE35);
                h ^= h >> 15;
                h = h.wrapping_mul(0x2C1B_3C6D);
                h ^= h >> 12;
                h as u8
            })
            .collect()
    };
    let labels = |n: usize, off: usize| -> Vec<u8> {
        (0..n)
            .map(|i| ((i + off + seed as usize) % 10) as u8)
            .collect()
    };
    let (train_pixels, test_pixels) = (pixels(train, 1), pixels(test, 2));
    let (train_labels, test_labels) = (labels(train, 0), labels(test, 3));
    let idx = vec![
        (
            MnistFile::TrainImages,
            idx::encode_images(28, 28, &train_pixels),
        ),
        (MnistFile::TrainLabels, idx::encode_labels(&train_labels)),
        (
            MnistFile::TestImages,
            idx::encode_images(28, 28, &test_pixels),
        ),
        (MnistFile::TestLabels, idx::encode_labels(&test_labels)),
    ];
    let checksums = Checksums::new(std::array::from_fn(|i| {
        let b = &idx[i].1;
        (sha256_hex(b), b.len() as u64)
    }));
    Fixture {
        idx,
        checksums,
        train_pixels,
        train_labels,
        test_pixels,
        test_labels,
    }
}

/// How fixture files are written.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub gzip: bool,
    pub dotted: bool,
}

impl Fixture {
    /// The bytes of `file` as stored: gzip-compressed or raw.
    pub fn bytes(&self, file: MnistFile, gzip: bool) -> Vec<u8> {
        let raw = &self.idx.iter().find(|(f, _)| *f == file).unwrap().1;
        if gzip { idx::gzip(raw) } else { raw.clone() }
    }

    /// The name of `file` in `style`.
    pub fn name(file: MnistFile, style: Style) -> String {
        let stem = if style.dotted {
            file.dotted_stem()
        } else {
            file.stem()
        };
        if style.gzip {
            format!("{stem}.gz")
        } else {
            stem.to_string()
        }
    }

    /// Writes the four files into `dir`.
    pub fn write(&self, dir: &Path, style: Style) {
        std::fs::create_dir_all(dir).unwrap();
        for f in MnistFile::ALL {
            std::fs::write(dir.join(Self::name(f, style)), self.bytes(f, style.gzip)).unwrap();
        }
    }
}

/// Names of the entries of `dir`, sorted.
///
/// The empty lock file `.scratchnet-mnist.lock` is left out: it is the OS lock's anchor and stays
/// by design (removing it would let two processes lock two different files of one name).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".scratchnet-mnist.lock")
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
