//! The JSON API on loopback, as the page and `curl` use it: answers checked against the net
//! computed here, bad input refused with a 4xx and a message, a panic in a handler answered
//! with a 500 while the server goes on, many clients at once, a clean stop.
//!
//! Data: `MNIST_DIR` (set by `cargo xtask test`), else `<workspace>/data/mnist`. Missing data is
//! a failure that says how to fetch it, never a skip.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_serve::{ServeArgs, Server};
use serde_json::{Value, json};

fn mnist_dir() -> PathBuf {
    let dir = scratchnet_mnist::default_dir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let missing = scratchnet_mnist::missing_files(&dir);
    assert!(
        missing.is_empty(),
        "real MNIST is missing in {} ({}): run `cargo xtask fetch-mnist` or `cargo xtask test`, or set MNIST_DIR",
        dir.display(),
        missing.join(", ")
    );
    dir
}

/// A run folder as the trainer writes one, with a net of random weights.
fn make_run(root: &Path, name: &str, spec: NetSpec, seed: u64) -> Net<f32> {
    let dir = root.join("runs").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let net = Net::<f32>::new(spec, &mut scratchnet_tensor::rng_from_seed(seed)).unwrap();
    net.save(dir.join("model.bin")).unwrap();
    let loss: String = std::iter::once("iteration,loss\n".to_owned())
        .chain((1..=10).map(|k| format!("{k},{}\n", 2.5 / k as f64)))
        .collect();
    std::fs::write(dir.join("loss.csv"), loss).unwrap();
    std::fs::write(
        dir.join("accuracy.csv"),
        "epoch,iteration,train_acc,test_acc\n0,1,0.1,0.12\n1,10,0.5,0.52\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("summary.json"),
        r#"{"describe": "backprop, f64, hidden 50, batch 100, lr 0.1", "test_acc": 0.52}"#,
    )
    .unwrap();
    net
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn get(url: &str) -> (u16, Value) {
    let mut r = agent().get(url).call().unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap(),
    )
}

fn post(url: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    let mut r = agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap(),
    )
}

fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<f64> = scores.iter().map(|v| (v - max).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn png(img: &image::GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageOutputFormat::Png,
    )
    .unwrap();
    out
}

fn dense() -> NetSpec {
    NetSpec::multi_layer_net(784, &[30, 20], 10, Activation::Relu, WeightInit::He, 0.0)
}

#[test]
fn the_api_answers_what_the_net_computes_and_refuses_bad_input() {
    let root = tempfile::tempdir().unwrap();
    let net = make_run(root.path(), "2026-01-01_00-00-00", dense(), 1);
    let conv_spec = "conv 4x5x5, relu, pool 2, affine 10"
        .parse::<NetSpec>()
        .unwrap();
    let conv = make_run(root.path(), "2026-01-02_00-00-00", conv_spec.clone(), 2);
    let args = ServeArgs {
        run: Some(root.path().join("runs/2026-01-01_00-00-00")),
        port: 0,
        data: Some(mnist_dir()),
        ..Default::default()
    };
    let server = Server::start(&args, root.path()).unwrap();
    let url = server.url();
    assert!(server.addr().ip().is_loopback());

    // the page and its assets, compiled in
    let mut page = agent().get(&url).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.body_mut().read_to_string().unwrap();
    assert!(html.contains("<canvas id=\"pad\"") && html.contains("/app.js"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched from outside"
    );

    // the model
    let (s, m) = get(&format!("{url}api/model"));
    assert_eq!(s, 200);
    assert_eq!(m["name"], "2026-01-01_00-00-00");
    assert_eq!(m["sizes"], json!([784, 30, 20, 10]));
    assert_eq!(m["kind"], "dense");
    let tiles = m["first_layer"]["tiles"].as_array().unwrap();
    assert_eq!(tiles.len(), 30);
    // a tile is the column of W1 of its unit, 128 at 0, ±127 at the column's largest magnitude
    let w1 = &net.params()["W1"];
    let col: Vec<f64> = (0..784).map(|i| f64::from(w1[[i, 7]])).collect();
    let max = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, t) in tiles[7].as_array().unwrap().iter().enumerate() {
        let want = (128.0 + col[i] * 127.0 / max).round();
        assert!((t.as_f64().unwrap() - want).abs() <= 1.0, "pixel {i}");
    }

    // a prediction from 784 values: the softmax of the net's scores, computed here
    let x = Array1::from_shape_fn(784, |i| ((i * 7919) % 255) as f32 / 255.0);
    let body = json!({ "pixels": x.to_vec() }).to_string();
    let (s, p) = post(
        &format!("{url}api/predict?inside=true"),
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(s, 200, "{p}");
    let scores = net.predict(&x.clone().insert_axis(ndarray::Axis(0)));
    let want = softmax(&scores.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
    let probs = floats(&p["probs"]);
    for (a, b) in probs.iter().zip(&want) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    let best = (0..10)
        .max_by(|&a, &b| want[a].total_cmp(&want[b]))
        .unwrap();
    assert_eq!(p["class"], best);
    // inside: the block outputs (relu, relu, scores), the first the relu of x·W1 + b1
    let layers = p["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["relu", "relu", "affine 10"]);
    let h1 = x.dot(
        &net.params()["W1"]
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap(),
    ) + net.params()["b1"]
        .view()
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    for (a, b) in floats(&layers[0]["values"]).iter().zip(h1.iter()) {
        assert!((a - f64::from(b.max(0.0))).abs() < 1e-3, "{a} vs {b}");
    }

    // a PNG is a drawing: a 20×40 bar, white on black, becomes 10×20 pixels of 1 in the
    // middle of the 28×28 input (rows 4..24, columns 9..19), as the MNIST digits were framed
    let mut img = image::GrayImage::new(100, 120);
    for y in 30..70 {
        for x in 50..70 {
            img.put_pixel(x, y, image::Luma([255]));
        }
    }
    let (s, p) = post(&format!("{url}api/predict"), "image/png", &png(&img));
    assert_eq!(s, 200, "{p}");
    let input = floats(&p["input"]);
    for (k, v) in input.iter().enumerate() {
        let (r, c) = (k / 28, k % 28);
        let want = if (4..24).contains(&r) && (9..19).contains(&c) {
            1.0
        } else {
            0.0
        };
        assert_eq!(*v, want, "pixel ({r}, {c})");
    }
    assert!(p.get("layers").is_none());

    // bad input: a 4xx and a message that says what is wrong
    for (ct, body, status, says) in [
        (
            "application/json",
            json!({ "pixels": vec![0.5; 783] }).to_string(),
            422,
            "784",
        ),
        (
            "application/json",
            {
                let mut v = vec![0.0; 784];
                v[5] = 2.0;
                json!({ "pixels": v }).to_string()
            },
            422,
            "pixel 5 is 2",
        ),
        (
            "application/json",
            "{\"pixels\": ".into(),
            400,
            "expected JSON",
        ),
        ("text/plain", "7".into(), 415, "image/png"),
        ("image/png", "not a png".into(), 400, "PNG"),
    ] {
        let (s, e) = post(&format!("{url}api/predict"), ct, body.as_bytes());
        assert_eq!(s, status, "{ct} {e}");
        assert!(e["error"].as_str().unwrap().contains(says), "{e}");
    }
    let (s, e) = post(
        &format!("{url}api/predict"),
        "image/png",
        &png(&image::GrayImage::new(50, 50)),
    );
    assert_eq!(
        (s, e["error"].as_str().unwrap().contains("nothing is drawn")),
        (422, true),
        "{e}"
    );
    let huge = vec![b' '; 3 << 20];
    let r = agent()
        .post(&format!("{url}api/predict"))
        .header("Content-Type", "application/json")
        .send(&huge[..]);
    // refused before it is read: a 413, or the connection closed while the body was sent
    if let Ok(r) = r {
        assert_eq!(r.status().as_u16(), 413);
    }
    for (path, status, says) in [
        ("api/model?run=..", 404, "no run"),
        ("api/model?run=nope", 404, "no run"),
        ("api/test/abc", 400, "not a test image index"),
        ("api/nothing", 404, "no such page"),
    ] {
        let (s, e) = get(&format!("{url}{path}"));
        assert_eq!(s, status, "{path}: {e}");
        assert!(e["error"].as_str().unwrap().contains(says), "{path}: {e}");
    }

    // another run under runs/, by name
    let (s, m) = get(&format!("{url}api/model?run=2026-01-02_00-00-00"));
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["kind"].as_str(), m["spec"].as_str()),
        (Some("conv"), Some(conv_spec.to_string().as_str()))
    );
    assert_eq!(m["first_layer"]["tiles"].as_array().unwrap().len(), 4);
    let (s, p) = post(
        &format!("{url}api/predict?run=2026-01-02_00-00-00&inside=true"),
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(s, 200);
    let scores = conv.predict(&x.clone().insert_axis(ndarray::Axis(0)));
    let want = softmax(&scores.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
    for (a, b) in floats(&p["probs"]).iter().zip(&want) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    let shapes: Vec<&Value> = p["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["shape"])
        .collect();
    assert_eq!(
        shapes,
        [&json!([4, 24, 24]), &json!([4, 12, 12]), &json!([10])]
    );

    // the runs and the run
    let (_, r) = get(&format!("{url}api/runs"));
    let names: Vec<&str> = r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["2026-01-02_00-00-00", "2026-01-01_00-00-00"]);
    assert_eq!(r["runs"][1]["test_acc"], 0.52);
    assert_eq!(
        r["runs"][1]["describe"],
        "backprop, f64, hidden 50, batch 100, lr 0.1"
    );
    let (s, run) = get(&format!("{url}api/run"));
    assert_eq!(s, 200);
    assert_eq!(run["loss"]["rows"][3], json!([4.0, 2.5 / 4.0]));
    assert_eq!(run["accuracy"]["rows"][1], json!([1.0, 10.0, 0.5, 0.52]));
    assert_eq!(
        run["summary"]["describe"],
        "backprop, f64, hidden 50, batch 100, lr 0.1"
    );

    // the test set: the confusion matrix of the net's predictions, computed here too
    let test = scratchnet_mnist::load_raw(mnist_dir()).unwrap().test;
    let t = loop {
        let (_, t) = get(&format!("{url}api/test"));
        if t["status"] != "pending" {
            break t;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(t["status"], "ready", "{t}");
    let xt: Array2<f32> = test.images.mapv(|p| f32::from(p) / 255.0);
    let predicted = net.predict(&xt);
    let mut confusion = vec![vec![0u64; 10]; 10];
    for (row, &label) in predicted.rows().into_iter().zip(&test.labels) {
        let p = (0..10)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
            .unwrap();
        confusion[usize::from(label)][p] += 1;
    }
    assert_eq!(t["confusion"], json!(confusion));
    let wrong: u64 = (0..10)
        .map(|i| confusion[i].iter().sum::<u64>() - confusion[i][i])
        .sum();
    assert_eq!(t["count"], wrong);
    assert!((t["accuracy"].as_f64().unwrap() - (10_000 - wrong) as f64 / 1e4).abs() < 1e-12);
    let first = &t["mistakes"][0];
    let i = first["index"].as_u64().unwrap() as usize;
    assert_ne!(first["label"], first["predicted"]);
    let (s, img) = get(&format!("{url}api/test/{i}"));
    assert_eq!(s, 200);
    assert_eq!(img["label"], test.labels[i]);
    assert_eq!(
        floats(&img["pixels"])[..],
        xt.row(i)
            .iter()
            .map(|&v| (f64::from(v) * 1e4).round() / 1e4)
            .collect::<Vec<_>>()[..]
    );
    let (s, _) = get(&format!("{url}api/test/10000"));
    assert_eq!(s, 404);

    // many clients at once
    std::thread::scope(|sc| {
        for _ in 0..12 {
            sc.spawn(|| {
                for _ in 0..8 {
                    let (s, p) = post(
                        &format!("{url}api/predict?inside=true"),
                        "application/json",
                        body.as_bytes(),
                    );
                    assert_eq!((s, &p["class"]), (200, &json!(best)));
                }
            });
        }
    });

    server.stop().unwrap();
    assert!(
        agent().get(&url).call().is_err(),
        "stopped: nothing listens"
    );
}

#[test]
fn without_mnist_the_page_says_where_it_looked() {
    let root = tempfile::tempdir().unwrap();
    make_run(root.path(), "r", dense(), 3);
    let empty = tempfile::tempdir().unwrap();
    let args = ServeArgs {
        port: 0,
        data: Some(empty.path().to_owned()),
        ..Default::default()
    };
    // no RUN_DIR: the newest run under runs/
    let server = Server::start(&args, root.path()).unwrap();
    let url = server.url();
    let t = loop {
        let (_, t) = get(&format!("{url}api/test"));
        if t["status"] != "pending" {
            break t;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(t["status"], "absent");
    let msg = t["message"].as_str().unwrap();
    assert!(
        msg.contains(&empty.path().display().to_string()) && msg.contains("fetch-mnist"),
        "{msg}"
    );
    let (s, e) = get(&format!("{url}api/test/0"));
    assert_eq!(s, 404, "{e}");
    // the rest works
    let (s, m) = get(&format!("{url}api/model"));
    assert_eq!((s, m["name"].as_str()), (200, Some("r")));
    server.stop().unwrap();
}

#[test]
fn a_panic_in_a_handler_is_a_500_and_the_server_goes_on() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("runs/r");
    make_run(root.path(), "r", dense(), 4);
    let args = ServeArgs {
        run: Some(dir),
        port: 0,
        data: Some(root.path().to_owned()),
        ..Default::default()
    };
    let server = Server::start(&args, root.path()).unwrap();
    let url = server.url();
    let r = agent()
        .get(&format!("{url}api/test-hooks/panic"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let (s, _) = get(&format!("{url}api/model"));
    assert_eq!(s, 200);
    server.stop().unwrap();
}

#[test]
fn what_cannot_be_served_is_refused_by_name() {
    let root = tempfile::tempdir().unwrap();
    let start = |args: ServeArgs| Server::start(&args, root.path()).unwrap_err();
    let e = start(ServeArgs {
        port: 0,
        ..Default::default()
    });
    assert!(
        e.to_string().contains("no run with a model.bin") && e.exit_code() == 2,
        "{e}"
    );
    let e = start(ServeArgs {
        run: Some(root.path().to_owned()),
        port: 0,
        ..Default::default()
    });
    assert!(e.to_string().contains("has no model.bin"), "{e}");
    let bad = root.path().join("bad.bin");
    std::fs::write(&bad, b"not a model").unwrap();
    let e = start(ServeArgs {
        model: Some(bad.clone()),
        port: 0,
        ..Default::default()
    });
    assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
    let small = root.path().join("small.bin");
    Net::<f64>::new(
        NetSpec::two_layer_net(4, 3, 2, 0.1),
        &mut scratchnet_tensor::rng_from_seed(0),
    )
    .unwrap()
    .save(&small)
    .unwrap();
    let e = start(ServeArgs {
        model: Some(small),
        port: 0,
        ..Default::default()
    });
    assert!(e.to_string().contains("784 and 10"), "{e}");
}
