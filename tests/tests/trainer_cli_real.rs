//! The `scratchnet` binary on the real MNIST: one epoch's accuracy as the notebook prints it,
//! `eval` of the saved model, and the download into the default data folder from a loopback
//! mirror. (The binary's other behaviour is tested on generated data in crates/trainer/tests.)
//!
//! Data: `MNIST_DIR`, else `<workspace>/data/mnist`; missing data fails the test with the command
//! that fetches it, never skips. The binary is the `scratchnet` that Cargo builds beside this
//! test's executable (`cargo test --workspace` builds it).

use scratchnet_integration_tests::data_dir as mnist_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("scratchnet");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p scratchnet-trainer --profile test` or run `cargo test --workspace`",
        bin.display()
    );
    bin
}

fn scratchnet(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("MNIST_DIR")
        .output()
        .expect("the scratchnet binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).expect("valid summary.json")
}

use scratchnet_trainer::RUN_FILES;

#[test]
fn one_epoch_on_mnist_reaches_the_books_accuracy_and_eval_agrees() {
    let data = mnist_dir();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = scratchnet(&[
        "train",
        "--grad",
        "backprop",
        "--iters",
        "601",
        "--dtype",
        "f32",
        "--data",
        s(&data),
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let sum = json(&out.join("summary.json"));
    assert!(sum["test_acc"].as_f64().unwrap() > 0.7, "{sum}");
    assert_eq!(listing(&out), RUN_FILES);
    let o = scratchnet(&[
        "eval",
        "--model",
        s(&out.join("model.bin")),
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), lines[1]);
}

/// Serves the files of `dir` over HTTP on a loopback port: a stand-in MNIST mirror.
fn serve_dir(dir: PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok() && line.trim() != "" {
                line.clear();
            }
            let name = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let body = std::fs::read(dir.join(name)).ok();
            let head = match &body {
                Some(b) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    b.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string(),
            };
            let _ = stream.write_all(head.as_bytes());
            if let Some(b) = body {
                let _ = stream.write_all(&b);
            }
        }
    });
    format!("http://127.0.0.1:{port}/")
}

#[test]
fn the_default_data_folder_is_fetched_into_from_mnist_mirror() {
    let real = mnist_dir();
    let gz = tempfile::tempdir().unwrap();
    for f in scratchnet_mnist::MnistFile::ALL {
        let src = f.find_in(&real).unwrap();
        let name = f.remote_name();
        if src.extension().is_some_and(|e| e == "gz") {
            std::fs::copy(&src, gz.path().join(&name)).unwrap();
        } else {
            std::fs::write(
                gz.path().join(&name),
                scratchnet_mnist::idx::gzip(&std::fs::read(&src).unwrap()),
            )
            .unwrap();
        }
    }
    let mirror = serve_dir(gz.path().to_owned());
    let cwd = tempfile::tempdir().unwrap();
    // Neither `cargo run` nor MNIST_DIR: the defaults are data/mnist and runs/ in the current folder.
    let o = Command::new(bin())
        .args(["--grad", "backprop", "--iters", "3"])
        .current_dir(cwd.path())
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("MNIST_DIR")
        .env("MNIST_MIRROR", &mirror)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("downloading"), "{err}");
    assert!(scratchnet_mnist::missing_files(cwd.path().join("data/mnist")).is_empty());
    let runs: Vec<_> = std::fs::read_dir(cwd.path().join("runs"))
        .unwrap()
        .collect();
    assert_eq!(runs.len(), 1);
    let run = runs[0].as_ref().unwrap().path();
    assert_eq!(listing(&run), RUN_FILES);
    assert_eq!(json(&run.join("summary.json"))["iters_done"], 3);
}
