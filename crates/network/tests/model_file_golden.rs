//! Model files written by earlier builds load forever: `golden/model-v1-784-2-10-f32.bin` was
//! written by `scratchnet train --hidden 2 --dtype f32` of the first format version (before the
//! framing moved to scratchnet-fileio). A file of another version fails with a clear message.

use std::path::{Path, PathBuf};

use scratchnet_network::{ModelError, ModelHeader, TwoLayerNet};
use sha2::{Digest, Sha256};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/model-v1-784-2-10-f32.bin")
}

#[test]
fn version_1_model_still_loads() {
    let h = ModelHeader::read(golden()).unwrap();
    assert_eq!(
        (h.dtype.as_str(), h.input, h.hidden, h.output),
        ("f32", 784, 2, 10)
    );
    let net = TwoLayerNet::<f32>::load(&golden()).unwrap();
    assert_eq!(net.sizes(), (784, 2, 10));
    assert!(net.params.all_finite());
    // two SGD steps from weights of std 0.01: small but not all zero
    assert!(net.params.w1.iter().any(|&v| v != 0.0));
    assert!(net.params.max_abs() < 0.1);
    // and it writes back to the very same bytes
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("model.bin");
    net.save(&again).unwrap();
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(golden()).unwrap()
    );
}

#[test]
fn version_2_is_refused_by_name() {
    let mut bytes = std::fs::read(golden()).unwrap();
    bytes[8] = 2;
    let n = bytes.len() - 32;
    let digest = Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&digest);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.bin");
    std::fs::write(&p, &bytes).unwrap();
    let e = TwoLayerNet::<f32>::load(&p).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::Version {
                found: 2,
                expected: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("version 2"), "{e}");
}

#[test]
fn a_huge_length_with_a_valid_checksum_is_an_error_not_an_abort() {
    let mut bytes = b"SNETMODL".to_vec();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&(1u64 << 40).to_le_bytes()); // the dtype string's length
    bytes.extend_from_slice(b"f64");
    bytes.extend_from_slice(&[0; 64]);
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.bin");
    std::fs::write(&p, &bytes).unwrap();
    let e = ModelHeader::read(&p).unwrap_err();
    assert!(matches!(e, ModelError::Corrupt { .. }), "{e}");
    assert!(TwoLayerNet::<f64>::load(&p).is_err());
}

#[test]
fn special_files_are_refused_not_replaced() {
    let net = TwoLayerNet::<f32>::new(2, 2, 2, 0.1, &mut scratchnet_tensor::rng_from_seed(0));
    let e = net.save("/dev/null").unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    assert!(
        Path::new("/dev/null")
            .metadata()
            .unwrap()
            .file_type()
            .is_char_device_like()
    );
    let e = net.export_npz("/dev/null").unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let e = TwoLayerNet::<f32>::load("/dev/zero").unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

trait CharDevice {
    fn is_char_device_like(&self) -> bool;
}

impl CharDevice for std::fs::FileType {
    fn is_char_device_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_char_device()
    }
}
