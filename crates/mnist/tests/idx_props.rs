//! No input bytes make the IDX reader panic: random bytes, random bytes behind a valid magic,
//! every truncation and single-byte corruption of valid files, raw and gzip.

use std::path::Path;

use proptest::prelude::*;
use scratchnet_mnist::MnistError;
use scratchnet_mnist::idx::{IdxSource, encode_images, encode_labels, gzip};

fn read_both(bytes: &[u8]) -> (Result<(), MnistError>, Result<(), MnistError>) {
    let p = Path::new("fuzz");
    let img = IdxSource::from_reader(std::io::Cursor::new(bytes.to_vec()), p)
        .and_then(|s| s.read_images(p));
    let lab = IdxSource::from_reader(std::io::Cursor::new(bytes.to_vec()), p)
        .and_then(|s| s.read_labels(p));
    (img.map(|_| ()), lab.map(|_| ()))
}

fn valid_images() -> impl Strategy<Value = Vec<u8>> {
    (1u32..5, 1u32..5, 0usize..4).prop_flat_map(|(r, c, n)| {
        proptest::collection::vec(any::<u8>(), (r * c) as usize * n)
            .prop_map(move |px| encode_images(r, c, &px))
    })
}

fn valid_labels() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..10, 0..40).prop_map(|l| encode_labels(&l))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = read_both(&bytes);
        let _ = read_both(&gzip(&bytes));
    }

    #[test]
    fn random_bytes_after_a_valid_magic_never_panic(
        magic in prop_oneof![Just(0x0803u32), Just(0x0801u32)],
        rest in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = magic.to_be_bytes().to_vec();
        bytes.extend(rest);
        let _ = read_both(&bytes);
        let _ = read_both(&gzip(&bytes));
    }

    #[test]
    fn every_truncation_is_an_error(file in prop_oneof![valid_images(), valid_labels()], cut in any::<prop::sample::Index>()) {
        let is_images = file[3] == 3;
        let (img, lab) = read_both(&file);
        let whole_ok = if is_images { img.is_ok() } else { lab.is_ok() };
        prop_assert!(whole_ok);
        let n = cut.index(file.len()); // strictly shorter
        let (img, lab) = read_both(&file[..n]);
        prop_assert!(img.is_err() && lab.is_err());
        let gz = gzip(&file);
        let m = cut.index(gz.len());
        let (img, lab) = read_both(&gz[..m]);
        prop_assert!(img.is_err() && lab.is_err());
    }

    #[test]
    fn corrupted_bytes_never_panic(file in prop_oneof![valid_images(), valid_labels()], at in any::<prop::sample::Index>(), x in 1u8..=255) {
        let mut raw = file.clone();
        let i = at.index(raw.len());
        raw[i] ^= x;
        let _ = read_both(&raw);
        let mut gz = gzip(&file);
        let j = at.index(gz.len());
        gz[j] ^= x;
        let _ = read_both(&gz);
    }

    #[test]
    fn header_counts_are_never_trusted(count in any::<u32>(), rows in any::<u32>(), cols in any::<u32>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
        // Any header with little data: an error unless the header is exactly right, and never
        // an allocation of the claimed size (which would abort the test process).
        let mut bytes = Vec::new();
        for v in [0x0803u32, count, rows, cols] {
            bytes.extend(v.to_be_bytes());
        }
        bytes.extend(&data);
        let exact = count as u128 * rows as u128 * cols as u128 == data.len() as u128;
        let (img, _) = read_both(&bytes);
        prop_assert_eq!(img.is_ok(), exact);
    }
}
