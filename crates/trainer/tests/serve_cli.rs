//! `scratchnet serve` as a user starts and stops it: `--port 0` prints the URL, the page answers,
//! Ctrl-C (SIGINT) stops it cleanly with exit code 0, a bad model is a one-line error with
//! exit code 2, and `--host` beyond loopback warns. The API itself is tested in crates/serve.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use common::BIN;
use scratchnet_network::{Net, NetSpec};

/// `GET path` over HTTP/1.0: the status line and the body.
fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

fn model(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("model.bin");
    Net::<f32>::new(
        NetSpec::two_layer_net(784, 20, 10, 0.01),
        &mut scratchnet_tensor::rng_from_seed(0),
    )
    .unwrap()
    .save(&path)
    .unwrap();
    path
}

#[test]
fn serve_prints_its_url_answers_and_stops_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let model = model(tmp.path());
    for host in ["127.0.0.1", "0.0.0.0"] {
        let mut child = Command::new(BIN)
            .args(["serve", "--model"])
            .arg(&model)
            .args(["--port", "0", "--host", host, "--data"])
            .arg(tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "scratchnet serve: http://127.0.0.1:PORT/ (model.bin); Ctrl-C to stop"
        let url = line.split_whitespace().nth(2).unwrap().to_owned();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .replace("0.0.0.0", "127.0.0.1");
        assert!(url.starts_with(&format!("http://{host}:")), "{line}");
        let (status, body) = get(&addr, "/api/model");
        assert!(status.contains("200"), "{status}");
        assert!(body.contains("\"sizes\":[784,20,10]"), "{body}");
        let kill = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("stopped"), "{err}");
        assert_eq!(
            err.contains("warning: listening on 0.0.0.0"),
            host == "0.0.0.0",
            "{err}"
        );
    }
}

#[test]
fn serve_refuses_what_it_cannot_serve_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.bin");
    std::fs::write(&bad, b"not a model").unwrap();
    let out = common::scratchnet(&["serve", "--model", bad.to_str().unwrap(), "--port", "0"]);
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: cannot load the model") && err.lines().count() == 1,
        "{err}"
    );
    let out = common::scratchnet(&["serve", tmp.path().to_str().unwrap(), "--port", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("has no model.bin"));
}
