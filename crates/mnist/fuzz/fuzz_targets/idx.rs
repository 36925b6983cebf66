//! Any bytes, raw or behind a gzip header, read as IDX images and as IDX labels: the reader
//! must return `Ok` or a typed error, never panic, never allocate the header's claim blindly.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use scratchnet_mnist::idx::IdxSource;

fuzz_target!(|data: &[u8]| {
    let p = Path::new("fuzz-input");
    if let Ok(src) = IdxSource::from_reader(Cursor::new(data.to_vec()), p) {
        let _ = src.read_images(p);
    }
    if let Ok(src) = IdxSource::from_bytes(data.to_vec(), p) {
        let _ = src.read_labels(p);
    }
});
