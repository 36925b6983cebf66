//! What the binary's tests share: a small generated data set in the MNIST layout and helpers to
//! run the binary. Each test file includes this module and uses a part of it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_scratchnet");

/// Training images of the fixture.
pub const TRAIN: usize = 200;

/// Writes a small data set in the MNIST layout into `<dir>/mnist` and returns that folder.
pub fn fixture_in(dir: &Path) -> PathBuf {
    use scratchnet_mnist::idx;
    let data = dir.join("mnist");
    std::fs::create_dir_all(&data).unwrap();
    let pixels = |n: usize, salt: usize| -> Vec<u8> {
        (0..n * 784)
            .map(|i| {
                let h = (i.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(97)) as u32;
                let h = h ^ (h >> 15);
                if (h >> 8) % 5 == 0 { h as u8 } else { 0 }
            })
            .collect()
    };
    let labels = |n: usize| -> Vec<u8> { (0..n).map(|i| (i % 10) as u8).collect() };
    let files = [
        (
            "train-images-idx3-ubyte",
            idx::encode_images(28, 28, &pixels(TRAIN, 1)),
        ),
        (
            "train-labels-idx1-ubyte",
            idx::encode_labels(&labels(TRAIN)),
        ),
        (
            "t10k-images-idx3-ubyte",
            idx::encode_images(28, 28, &pixels(50, 2)),
        ),
        ("t10k-labels-idx1-ubyte", idx::encode_labels(&labels(50))),
    ];
    for (name, bytes) in files {
        std::fs::write(data.join(name), bytes).unwrap();
    }
    data
}

/// A fixture in a temp folder of its own (kept alive by the returned guard).
pub fn mnist_fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture_in(tmp.path());
    (tmp, data)
}

/// Runs the binary with the testing aid that stops it as Ctrl-C would after `n` iterations.
pub fn stop_after(args: &[&str], n: usize) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("MNIST_DIR")
        .env("SCRATCHNET_STOP_AFTER", n.to_string())
        .output()
        .expect("the scratchnet binary runs")
}

pub fn scratchnet(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("MNIST_DIR")
        .output()
        .expect("the scratchnet binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}
