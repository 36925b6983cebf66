//! The input split into four files and a cache, loaded as a data folder: parse errors and
//! cache rejection must be errors or rebuilds, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scratchnet_mnist::{CACHE_FILE, MnistFile, load_raw};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut parts = data.split(|&b| b == 0xff);
    for f in MnistFile::ALL {
        let part = parts.next().unwrap_or(&[]);
        std::fs::write(dir.path().join(f.stem()), part).expect("write");
    }
    let cache: Vec<u8> = parts.flatten().copied().collect();
    std::fs::write(dir.path().join(CACHE_FILE), cache).expect("write");
    let _ = load_raw(dir.path());
});
