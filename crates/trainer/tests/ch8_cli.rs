//! Chapter 8 through the binary: weights that travel (a trained run exported to .npz and
//! safetensors, the .npz evaluated with --net as the run's own model.bin is), the half-precision
//! lines, the misclassified/confusion figures, and the one-line errors for a wrong .npz or flag.

mod common;

use common::*;

const NET: &str = "conv 2x3x3, relu, pool 2, affine 10";

fn accuracy_line(o: &std::process::Output) -> String {
    stdout(o)
        .lines()
        .find(|l| l.starts_with("train acc, test acc"))
        .unwrap_or_else(|| panic!("no accuracy line: {}", stderr(o)))
        .to_string()
}

#[test]
fn a_run_exported_to_npz_evaluates_as_its_model_bin_with_half_precision_and_figures() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let o = scratchnet(&[
        "train",
        "--net",
        NET,
        "--iters",
        "4",
        "--batch",
        "10",
        "--data",
        s(&data),
        "--out",
        s(&run),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let model = run.join("model.bin");
    // plot draws the final model's mistakes into the run folder
    let o = scratchnet(&["plot", s(&run), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "misclassified.png",
        "confusion.png",
        "confusion.csv",
        "filters.png",
    ] {
        assert!(run.join(f).exists(), "{f}: {}", stderr(&o));
    }
    let npz = tmp.path().join("params.npz");
    let o = scratchnet(&["export", "--model", s(&model), "--out", s(&npz)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("W1 (2, 1, 3, 3), b1 (2), W2 (338, 10), b2 (10) as f64"),
        "{}",
        stderr(&o)
    );

    let from_bin = scratchnet(&["eval", "--model", s(&model), "--data", s(&data)]);
    let figures = tmp.path().join("figures");
    let from_npz = scratchnet(&[
        "eval",
        "--model",
        s(&npz),
        "--net",
        NET,
        "--data",
        s(&data),
        "--half",
        "--out",
        s(&figures),
    ]);
    assert_eq!(from_npz.status.code(), Some(0), "{}", stderr(&from_npz));
    assert_eq!(accuracy_line(&from_bin), accuracy_line(&from_npz));

    // the book's half_float_network.py lines, each accuracy a share of the 50 test images
    let out = stdout(&from_npz);
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "caluculate accuracy (float64) ... ")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(lines[at + 2], "caluculate accuracy (float16) ... ");
    for v in [lines[at + 1], lines[at + 3]] {
        let v: f64 = v.parse().unwrap();
        assert!((v * 50.0 - (v * 50.0).round()).abs() < 1e-9, "{v}");
    }
    // the float64 line is the test accuracy of the accuracy line
    let test: f64 = accuracy_line(&from_npz)
        .rsplit(", ")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((lines[at + 1].parse::<f64>().unwrap() - test).abs() < 1e-4);

    // the confusion matrix: 50 test images, its diagonal the test accuracy
    for f in ["misclassified.png", "confusion.png", "confusion.csv"] {
        assert!(figures.join(f).exists(), "{f}");
    }
    let csv = std::fs::read_to_string(figures.join("confusion.csv")).unwrap();
    let rows: Vec<Vec<u64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 10);
    assert_eq!(rows.iter().flatten().sum::<u64>(), 50);
    // the fixture's labels are i % 10: five of each class
    assert!(rows.iter().all(|r| r.iter().sum::<u64>() == 5));
    let diagonal: u64 = (0..10).map(|k| rows[k][k]).sum();
    assert!((diagonal as f64 / 50.0 - test).abs() < 1e-4, "{csv}");
    assert!(
        out.contains("{view index: (label, inference), ...}"),
        "{out}"
    );
    assert!(out.contains("label \\ predicted     0     1"), "{out}");

    // safetensors, by extension and by --format
    for (file, extra) in [("m.safetensors", None), ("m.st", Some("safetensors"))] {
        let path = tmp.path().join(file);
        let mut args = vec!["export", "--model", s(&model), "--out", s(&path)];
        if let Some(f) = extra {
            args.extend(["--format", f]);
        }
        let o = scratchnet(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let bytes = std::fs::read(&path).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
        assert!(
            header.contains(r#""W1":{"dtype":"F64","shape":[2,1,3,3]"#),
            "{header}"
        );
    }
}

#[test]
fn a_wrong_npz_or_flag_is_one_line_with_exit_code_2() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let npz = tmp.path().join("small.npz");
    let spec: scratchnet_network::NetSpec = NET.parse().unwrap();
    let net = scratchnet_network::Net::<f32>::new(spec, &mut scratchnet_tensor::rng_from_seed(1))
        .unwrap();
    net.export_npz(&npz).unwrap();
    let o = scratchnet(&[
        "eval",
        "--model",
        s(&npz),
        "--net",
        "deep-convnet",
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}: array W1: shape (2, 1, 3, 3), the network needs (16, 1, 3, 3)",
            npz.display()
        )
    );
    // without --net the net is the notebook's 784-50-10
    let o = scratchnet(&["eval", "--model", s(&npz), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .ends_with("small.npz: array W1: shape (2, 1, 3, 3), the network needs (784, 50)\n"),
        "{}",
        stderr(&o)
    );
    // a model.bin records its own network
    let bin = tmp.path().join("model.bin");
    net.save(&bin).unwrap();
    let o = scratchnet(&["eval", "--model", s(&bin), "--net", NET, "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("apply to a .npz model"),
        "{}",
        stderr(&o)
    );
    // export: an extension that names no format
    let o = scratchnet(&[
        "export",
        "--model",
        s(&bin),
        "--out",
        s(&tmp.path().join("m.bin2")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot tell the format"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);
    // --out figures into a folder that is not empty
    let o = scratchnet(&[
        "eval",
        "--model",
        s(&bin),
        "--data",
        s(&data),
        "--out",
        s(tmp.path()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
}
