//! The `scratchnet` binary end to end on small generated MNIST-format data (200 training and 50
//! test images, written by the mnist crate's IDX encoder): bad input, reproducibility across
//! thread counts, interrupt and resume, non-finite loss, and the other subcommands. No test here
//! needs the real MNIST (those live in the workspace's `tests/` crate).

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&read(p)).expect("valid summary.json")
}

/// Runs `train` with `extra` flags (they must make it fail), and checks exit code 2, a one-line
/// error containing `expect`, no panic, and that `out` was not created.
fn assert_bad_train(extra: &[&str], expect: &str) {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut args = vec!["train", "--quiet", "--data", s(&data), "--out", s(&out)];
    args.extend_from_slice(extra);
    let o = scratchnet(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
    assert!(
        err.contains(expect),
        "{extra:?}: expected {expect:?} in {err:?}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{extra:?}: not one line: {err:?}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "{extra:?} left {}", out.display());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "{extra:?} left files"
    );
}

#[test]
fn bad_numbers_are_one_line_errors_with_exit_code_2_and_no_files() {
    assert_bad_train(&["--lr", "0"], "--lr");
    assert_bad_train(&["--lr", "-0.5"], "must be a finite number > 0");
    assert_bad_train(&["--lr", "NaN"], "must be a finite number > 0, got NaN");
    assert_bad_train(&["--lr", "inf"], "must be a finite number > 0, got inf");
    assert_bad_train(&["--lr", "1e308", "--dtype", "f32"], "in f32");
    assert_bad_train(&["--batch", "0"], "--batch");
    assert_bad_train(
        &["--batch", "201"],
        "larger than the training set (200 images)",
    );
    assert_bad_train(&["--hidden", "18446744073709551615"], "of memory");
    assert_bad_train(&["--hidden", "100000000"], "of memory");
    assert_bad_train(&["--batch", "18446744073709551615"], "of memory");
    assert_bad_train(&["--threads", "10000"], "--threads");
    assert_bad_train(
        &["--weight-init-std", "1e39", "--dtype", "f32"],
        "overflows f32",
    );
    assert_bad_train(&["--hidden", "0"], "--hidden");
    assert_bad_train(&["--iters", "0"], "--iters");
    assert_bad_train(&["--iters", "many"], "--iters");
    assert_bad_train(&["--grad", "magic"], "possible values: numeric, backprop");
    assert_bad_train(&["--threads", "0"], "--threads");
    assert_bad_train(&["--weight-init-std", "-1"], "--weight-init-std");
}

#[test]
fn unusable_out_folders_are_refused_before_training() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "x").unwrap();
    for (out, expect) in [
        (file.join("run"), "is not a folder"),
        (file.clone(), "exists and is not a folder"),
        (full.clone(), "is not empty"),
    ] {
        let o = scratchnet(&["train", "--quiet", "--data", s(&data), "--out", s(&out)]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(expect), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let mut left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["a-file", "full"]);
    assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);
}

#[test]
fn missing_data_says_how_to_fetch_and_is_never_fetched_into() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("empty");
    std::fs::create_dir(&data).unwrap();
    let out = tmp.path().join("run");
    let o = scratchnet(&["train", "--quiet", "--data", s(&data), "--out", s(&out)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cargo xtask fetch-mnist --dir {}", data.display())),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&data).unwrap().count(),
        0,
        "fetched into --data"
    );

    // MNIST_DIR is explicit too.
    let o = Command::new(BIN)
        .args(["train", "--quiet", "--out", s(&out)])
        .env("MNIST_DIR", &data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cargo xtask fetch-mnist"));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
}

#[test]
fn malformed_mnist_is_the_mnist_crates_error() {
    let (_keep, real) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for f in scratchnet_mnist::MnistFile::ALL {
        let src = f.find_in(&real).unwrap();
        std::fs::copy(&src, data.join(src.file_name().unwrap())).unwrap();
    }
    // A label file with a wrong magic number.
    let labels = scratchnet_mnist::MnistFile::TestLabels
        .find_in(&data)
        .unwrap();
    std::fs::remove_file(&labels).unwrap();
    let mut bad = scratchnet_mnist::idx::encode_labels(&[1; 50]);
    bad[3] = 0x02;
    std::fs::write(data.join("t10k-labels-idx1-ubyte"), bad).unwrap();
    let out = tmp.path().join("run");
    let o = scratchnet(&["train", "--quiet", "--data", s(&data), "--out", s(&out)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("t10k-labels-idx1-ubyte") && err.contains("magic"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists());
}

#[test]
fn resume_without_a_checkpoint_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let o = scratchnet(&["train", "--resume", s(tmp.path())]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("checkpoint.bin"), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    let o = scratchnet(&["train", "--resume", s(tmp.path()), "--lr", "0.5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

use scratchnet_trainer::RUN_FILES;

/// Two evaluations (i = 0 and i = 600) in 700 iterations.
fn train_args<'a>(data: &'a Path, out: &'a Path, grad: &'a str, iters: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--quiet",
        "--grad",
        grad,
        "--iters",
        iters,
        "--seed",
        "7",
        "--data",
        s(data),
        "--out",
        s(out),
    ]
}

#[test]
fn thread_count_does_not_change_any_number() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    for (grad, iters) in [("backprop", "700"), ("numeric", "4")] {
        let mut outs = Vec::new();
        for threads in ["1", "2"] {
            let out = tmp.path().join(format!("{grad}-{threads}"));
            let mut args = train_args(&data, &out, grad, iters);
            args.extend(["--threads", threads]);
            let o = scratchnet(&args);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            assert_eq!(
                json(&out.join("summary.json"))["threads"],
                threads.parse::<u64>().unwrap()
            );
            outs.push(out);
        }
        for out in &outs[1..] {
            for f in ["loss.csv", "accuracy.csv", "model.bin"] {
                assert!(
                    std::fs::read(outs[0].join(f)).unwrap() == std::fs::read(out.join(f)).unwrap(),
                    "{grad}: {f} differs between 1 thread and {}",
                    out.display()
                );
            }
        }
        let loss = read(&outs[0].join("loss.csv"));
        assert_eq!(loss.lines().count(), 1 + iters.parse::<usize>().unwrap());
    }
}

#[test]
fn interrupted_then_resumed_equals_uninterrupted() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let o = scratchnet(&train_args(&data, &whole, "backprop", "700"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(listing(&whole), RUN_FILES);
    let acc = read(&whole.join("accuracy.csv"));
    assert_eq!(acc.lines().count(), 1 + 350, "{acc}");

    let parts = tmp.path().join("parts");
    let o = stop_after(&train_args(&data, &parts, "backprop", "700"), 250);
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(listing(&parts), RUN_FILES);
    let sum = json(&parts.join("summary.json"));
    assert_eq!(sum["interrupted"], true);
    assert_eq!(sum["iters_done"], 250);
    assert_eq!(read(&parts.join("loss.csv")).lines().count(), 251);

    // a second interruption, then the rest on another thread count
    let o = stop_after(
        &[
            "train",
            "--quiet",
            "--resume",
            s(&parts),
            "--data",
            s(&data),
        ],
        500,
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(json(&parts.join("summary.json"))["iters_done"], 500);
    let o = scratchnet(&[
        "train",
        "--quiet",
        "--resume",
        s(&parts),
        "--threads",
        "1",
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    for f in ["loss.csv", "accuracy.csv", "model.bin"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(parts.join(f)).unwrap(),
            "{f} differs"
        );
    }
    let (a, b) = (
        json(&whole.join("summary.json")),
        json(&parts.join("summary.json")),
    );
    for k in [
        "train_acc",
        "test_acc",
        "final_loss",
        "iters_done",
        "evaluations",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
    assert_eq!(b["interrupted"], false);

    // resuming a finished run changes nothing
    let before = std::fs::read(parts.join("checkpoint.bin")).unwrap();
    let o = scratchnet(&["train", "--resume", s(&parts), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("already complete"), "{}", stderr(&o));
    assert_eq!(std::fs::read(parts.join("checkpoint.bin")).unwrap(), before);
}

#[test]
fn one_epoch_prints_the_notebook_lines_and_writes_every_file() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = scratchnet(&[
        "train",
        "--grad",
        "backprop",
        "--iters",
        "3",
        "--dtype",
        "f32",
        "--data",
        s(&data),
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for l in &lines {
        let rest = l.strip_prefix("train acc, test acc | ").expect(l);
        let nums: Vec<&str> = rest.split(", ").collect();
        assert_eq!(nums.len(), 2);
        for n in nums {
            assert!(n.starts_with("0.") && n.len() == 6, "{l}");
        }
    }
    // not a terminal: plain progress lines on stderr
    assert!(stderr(&o).contains("iteration 3/3"), "{}", stderr(&o));
    let sum = json(&out.join("summary.json"));
    for k in [
        "describe",
        "net",
        "optimizer",
        "schedule",
        "dtype",
        "seed",
        "iters_done",
        "train_acc",
        "test_acc",
        "final_loss",
        "wall_s",
        "iters_per_s",
        "interrupted",
    ] {
        assert!(!sum[k].is_null(), "summary lacks {k}: {sum}");
    }
    assert_eq!(sum["dtype"], "f32");
    assert_eq!(sum["schedule"]["gradient"], "backprop");
    assert_eq!(sum["schedule"]["batch"], 100);
    assert!(sum["run_id"].is_string(), "{sum}");
    let last_row = read(&out.join("accuracy.csv"));
    let last = last_row.lines().last().unwrap();
    assert!(last.starts_with("1,3,"), "{last}");
    assert!(lines[1].ends_with(&format!("{:.4}", sum["test_acc"].as_f64().unwrap())));
    for png in ["loss.png", "accuracy.png"] {
        let bytes = std::fs::read(out.join(png)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }

    // eval reads the model back and finds the same accuracy
    let o = scratchnet(&[
        "eval",
        "--model",
        s(&out.join("model.bin")),
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), lines[1]);

    // export writes the book's four arrays
    let npz = tmp.path().join("params.npz");
    let o = scratchnet(&[
        "export",
        "--model",
        s(&out.join("model.bin")),
        "--npz",
        s(&npz),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let net = scratchnet_network::TwoLayerNet::<f32>::import_npz(&npz).unwrap();
    assert_eq!(
        net,
        scratchnet_network::TwoLayerNet::<f32>::load(&out.join("model.bin")).unwrap()
    );

    // plot re-draws the figures from the CSVs
    std::fs::remove_file(out.join("loss.png")).unwrap();
    std::fs::remove_file(out.join("accuracy.png")).unwrap();
    let o = scratchnet(&["plot", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("loss.png").exists() && out.join("accuracy.png").exists());
}

#[test]
fn corrupted_model_is_an_error_for_eval_and_export() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model.bin");
    let net = scratchnet_network::TwoLayerNet::<f64>::new(
        784,
        5,
        10,
        0.01,
        &mut scratchnet_tensor::rng_from_seed(1),
    );
    net.save(&model).unwrap();
    let mut bytes = std::fs::read(&model).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&model, &bytes).unwrap();
    let (_keep, data) = mnist_fixture();
    let o = scratchnet(&["eval", "--model", s(&model), "--data", s(&data)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("model.bin") && err.contains("corrupt"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    let npz = tmp.path().join("out.npz");
    let o = scratchnet(&["export", "--model", s(&model), "--npz", s(&npz)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!npz.exists());
    std::fs::write(&model, b"not a model").unwrap();
    let o = scratchnet(&["eval", "--model", s(&model), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a scratchnet model"),
        "{}",
        stderr(&o)
    );
    let o = scratchnet(&[
        "eval",
        "--model",
        s(&tmp.path().join("none.bin")),
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn non_finite_loss_stops_with_an_error_and_keeps_the_last_finite_state() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // weights of ~3e307: sums of 50 of them overflow, two logits reach +inf and softmax gives NaN (inf − inf) on the first step.
    let o = scratchnet(&[
        "train",
        "--quiet",
        "--grad",
        "backprop",
        "--iters",
        "20",
        "--weight-init-std",
        "3e307",
        "--data",
        s(&data),
        "--out",
        s(&out),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("the loss became NaN at iteration 1"), "{err}");
    assert_eq!(listing(&out), RUN_FILES);
    assert_eq!(read(&out.join("loss.csv")), "iteration,loss\n");
    let sum = json(&out.join("summary.json"));
    assert_eq!(sum["iters_done"], 0);
    assert!(sum["error"].as_str().unwrap().contains("NaN"));
    let net = scratchnet_network::TwoLayerNet::<f64>::load(&out.join("model.bin")).unwrap();
    assert!(net.params.all_finite());
}

#[test]
fn plot_of_a_folder_without_csvs_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let o = scratchnet(&["plot", s(tmp.path())]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("loss.csv"));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn gradcheck_prints_a_small_difference_per_parameter() {
    let (_keep, data) = mnist_fixture();
    let o = scratchnet(&["gradcheck", "--numgrad", "fast", "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for name in ["W1", "b1", "W2", "b2"] {
        let row = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in {out}"));
        let mean: f64 = row.split_whitespace().nth(1).unwrap().parse().unwrap();
        // the book's (y − t)/N against the δ-loss's numerical gradient: ~1e-7, as the book prints
        assert!(mean < 1e-6, "{row}");
    }
    // the exact gradient of the δ-loss agrees far closer on b2 than the book's (y − t)/N
    let b2_mean = |out: &str| -> f64 {
        let row = out.lines().find(|l| l.starts_with("b2")).unwrap();
        row.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let exact = scratchnet(&[
        "gradcheck",
        "--numgrad",
        "fast",
        "--exact-delta",
        "--data",
        s(&data),
    ]);
    assert_eq!(exact.status.code(), Some(0), "{}", stderr(&exact));
    assert!(
        stdout(&exact).contains("exact δ-gradient"),
        "{}",
        stdout(&exact)
    );
    assert!(
        b2_mean(&stdout(&exact)) < b2_mean(&out) / 10.0,
        "{}\n{out}",
        stdout(&exact)
    );
}

#[test]
fn help_explains_every_flag_with_its_default() {
    let o = scratchnet(&["train", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let h = stdout(&o);
    for (flag, default) in [
        ("--grad", "numeric"),
        ("--numgrad", "fast"),
        ("--iters", "10000"),
        ("--batch", "100"),
        ("--lr", "0.1"),
        ("--hidden", "50"),
        ("--weight-init-std", "0.01"),
        ("--seed", "42"),
        ("--dtype", "f64"),
        ("--data", "data/mnist"),
        ("--out", "runs/"),
        ("--threads", "one per CPU"),
    ] {
        // the option's own entry, not a mention in the about text
        let at = h
            .find(&format!("      {flag} "))
            .unwrap_or_else(|| panic!("{flag} not in {h}"));
        let section: String = h[at..].lines().take(6).collect();
        assert!(
            section.contains(default),
            "{flag}: no {default} in {section}"
        );
    }
    assert!(!h.contains("--stop-after"), "the testing aid is hidden");
    for sub in ["eval", "gradcheck", "plot", "export"] {
        let o = scratchnet(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub}");
        assert!(stdout(&o).contains("Usage: scratchnet"), "{sub}");
    }
    let o = scratchnet(&["--help"]);
    let h = stdout(&o);
    assert!(
        h.contains("train") && h.contains("eval") && h.contains("--grad"),
        "{h}"
    );
}

#[test]
fn chapter_6_flags_that_do_not_fit_are_one_line_errors() {
    for (extra, expect) in [
        (
            &["--momentum", "0.5"][..],
            "--momentum applies only to --optimizer momentum or nesterov, not sgd",
        ),
        (
            &["--optimizer", "adam", "--decay-rate", "0.9"][..],
            "--decay-rate applies only to --optimizer rmsprop",
        ),
        (
            &["--hidden", "10,10", "--numgrad", "fast"][..],
            "--numgrad fast applies only to the notebook's network",
        ),
        (&["--hidden", "10,0"][..], "--hidden"),
        (&["--activation", "tanh"][..], "--activation"),
        (&["--init", "glorot"][..], "--init"),
        (
            &["--init", "he", "--weight-init-std", "0.1"][..],
            "cannot be used with",
        ),
        (&["--optimizer", "lbfgs"][..], "--optimizer"),
        (&["--optimizer", "adam", "--beta2", "1"][..], "--beta2"),
        (&["--weight-decay", "-1"][..], "--weight-decay"),
        (&["--hidden", "100000,100000,100000"][..], "of memory"),
    ] {
        assert_bad_train(extra, expect);
    }
}

/// A chapter 6 run: two ReLU layers, He weights, Adam, 700 iterations (two evaluations).
fn deep_args<'a>(data: &'a Path, out: &'a Path) -> Vec<&'a str> {
    let mut args = train_args(data, out, "backprop", "700");
    args.extend([
        "--hidden",
        "20,16",
        "--activation",
        "relu",
        "--init",
        "he",
        "--optimizer",
        "adam",
    ]);
    args
}

#[test]
fn a_deep_adam_run_resumes_exactly_and_every_subcommand_reads_it() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let o = scratchnet(&deep_args(&data, &whole));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(listing(&whole), RUN_FILES);
    let sum = json(&whole.join("summary.json"));
    assert_eq!(
        sum["net"]["layers"],
        serde_json::json!([{"affine": 20}, "relu", {"affine": 16}, "relu", {"affine": 10}])
    );
    assert_eq!(
        (
            sum["optimizer"]["kind"].as_str(),
            sum["optimizer"]["lr"].as_f64()
        ),
        (Some("adam"), Some(0.001))
    );
    assert_eq!(sum["net"]["init"], "he");

    // stopped twice, resumed on another thread count: the same files as the whole run
    let parts = tmp.path().join("parts");
    let o = stop_after(&deep_args(&data, &parts), 250);
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let resume = [
        "train",
        "--quiet",
        "--resume",
        s(&parts),
        "--data",
        s(&data),
    ];
    let o = stop_after(&resume, 430);
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let mut last = resume.to_vec();
    last.extend(["--threads", "1"]);
    let o = scratchnet(&last);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["loss.csv", "accuracy.csv", "model.bin"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(parts.join(f)).unwrap(),
            "{f} differs"
        );
    }

    // eval prints the summary's accuracies
    let model = whole.join("model.bin");
    let o = scratchnet(&["eval", "--model", s(&model), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("f64 784-20-16-10 relu network (W1, b1, W2, b2, W3, b3)"),
        "{}",
        stderr(&o)
    );
    // the run folder stands for its model.bin
    let by_dir = scratchnet(&["eval", "--model", s(&whole), "--data", s(&data)]);
    assert_eq!(by_dir.status.code(), Some(0), "{}", stderr(&by_dir));
    assert_eq!(stdout(&by_dir), stdout(&o));
    let line = format!(
        "train acc, test acc | {:.4}, {:.4}",
        sum["train_acc"].as_f64().unwrap(),
        sum["test_acc"].as_f64().unwrap()
    );
    assert_eq!(stdout(&o).trim(), line);

    // export: the book's names and shapes, the model's numbers
    let npz = tmp.path().join("deep.npz");
    let o = scratchnet(&["export", "--model", s(&model), "--npz", s(&npz)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("W1 (784, 20), b1 (20), W2 (20, 16), b2 (16), W3 (16, 10), b3 (10) as f64"),
        "{}",
        stderr(&o)
    );
    let net = scratchnet_network::MultiLayerNet::<f64>::load(&model).unwrap();
    let mut r = ndarray_npy::NpzReader::new(std::fs::File::open(&npz).unwrap()).unwrap();
    let w3: ndarray::Array2<f64> = r.by_name("W3").unwrap();
    assert_eq!(w3, net.params[2].w);

    // plot redraws from the CSVs
    std::fs::remove_file(whole.join("loss.png")).unwrap();
    let o = scratchnet(&["plot", s(&whole)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(whole.join("loss.png").is_file());
}

#[test]
fn gradcheck_of_a_deep_relu_net_is_below_1e_6_per_parameter() {
    let (_keep, data) = mnist_fixture();
    let o = scratchnet(&[
        "gradcheck",
        "--hidden",
        "12,8",
        "--activation",
        "relu",
        "--init",
        "he",
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("784-12-8-10 relu"), "{out}");
    for name in ["W1", "b1", "W2", "b2", "W3", "b3"] {
        let row = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in {out}"));
        let mean: f64 = row.split_whitespace().nth(1).unwrap().parse().unwrap();
        // the book's (y − t)/N against the δ-loss's numerical gradient: ~1e-7, as the book prints
        assert!(mean < 1e-6, "{row}");
    }
    let o = scratchnet(&[
        "gradcheck",
        "--hidden",
        "12,8",
        "--numgrad",
        "fast",
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--numgrad fast applies only"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn batch_norm_dropout_and_a_validation_split_resume_exactly() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let args = |out: &Path| -> Vec<String> {
        let mut a: Vec<String> = deep_args(&data, out)
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(
            [
                "--batch-norm",
                "--dropout",
                "0.2",
                "--weight-decay",
                "0.001",
                "--train-size",
                "150",
                "--validation",
                "0.2",
                "--batch",
                "20",
            ]
            .map(String::from),
        );
        a
    };
    let whole = tmp.path().join("whole");
    let a = args(&whole);
    let o = scratchnet(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let acc = read(&whole.join("accuracy.csv"));
    assert!(
        acc.starts_with("epoch,iteration,train_acc,val_acc\n"),
        "{acc}"
    );
    let sum = json(&whole.join("summary.json"));
    // 150 images: 30 held out, 120 to train on (6 batches of 20 per epoch)
    assert_eq!(
        (sum["train_size"].as_u64(), sum["test_size"].as_u64()),
        (Some(120), Some(30))
    );
    assert_eq!(sum["iter_per_epoch"], 6);
    assert!(sum["net"]["layers"].to_string().contains("batch"), "{sum}");

    let parts = tmp.path().join("parts");
    let a = args(&parts);
    let o = stop_after(&a.iter().map(String::as_str).collect::<Vec<_>>(), 333);
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let o = scratchnet(&[
        "train",
        "--resume",
        s(&parts),
        "--data",
        s(&data),
        "--threads",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("train acc, val acc | "),
        "{}",
        stdout(&o)
    );
    for f in ["loss.csv", "accuracy.csv", "model.bin"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(parts.join(f)).unwrap(),
            "{f} differs"
        );
    }
    // the plot of a validation run names the validation set
    let o = scratchnet(&["plot", s(&whole)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (extra, expect) in [
        (&["--validation", "1"][..], "--validation"),
        (
            &["--train-size", "100000"][..],
            "--train-size 100000 is more than the 200 training images",
        ),
        (&["--dropout", "1"][..], "--dropout"),
        (
            &["--batch-norm", "--numgrad", "fast"][..],
            "--numgrad fast applies only",
        ),
    ] {
        assert_bad_train(extra, expect);
    }
}

/// A convolutional net from `--net` (chapter 7): it trains with the book's `Trainer` defaults
/// (Adam 0.001, epochs, evaluation on the first N images), resumes byte-identical on another
/// thread count, exports the book's names and shapes, and `plot` draws its filters.
#[test]
fn a_conv_net_trains_resumes_exports_and_plots_its_filters() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let args = |out: &Path| -> Vec<String> {
        [
            "train",
            "--quiet",
            "--net",
            "conv 4x5x5, relu, pool 2, affine 12, relu, affine 10",
            "--epochs",
            "3",
            "--batch",
            "20",
            "--eval-samples",
            "30",
            "--dtype",
            "f32",
            "--data",
            s(&data),
            "--out",
            s(out),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let whole = tmp.path().join("whole");
    let a: Vec<String> = args(&whole);
    let o = scratchnet(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sum = json(&whole.join("summary.json"));
    // 200 images, batch 20: 10 iterations an epoch, 3 epochs
    assert_eq!(sum["iters_done"], 30);
    assert_eq!(
        (
            sum["optimizer"]["kind"].as_str(),
            sum["optimizer"]["lr"].as_f64()
        ),
        (Some("adam"), Some(0.001))
    );
    assert_eq!(read(&whole.join("accuracy.csv")).lines().count(), 1 + 3);

    let parts = tmp.path().join("parts");
    let a = args(&parts);
    let o = stop_after(&a.iter().map(String::as_str).collect::<Vec<_>>(), 13);
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let o = scratchnet(&[
        "train",
        "--quiet",
        "--resume",
        s(&parts),
        "--data",
        s(&data),
        "--threads",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["loss.csv", "accuracy.csv", "model.bin"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(parts.join(f)).unwrap(),
            "{f} differs"
        );
    }

    let npz = tmp.path().join("w.npz");
    let model = whole.join("model.bin");
    let o = scratchnet(&["export", "--model", s(&model), "--npz", s(&npz)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("W1 (4, 1, 5, 5)") || stderr(&o).contains("W1 (4, 1, 5, 5)"),
        "{}",
        stdout(&o)
    );

    let filters = whole.join("filters.png");
    assert!(!filters.exists());
    let o = scratchnet(&["plot", s(&whole)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::metadata(&filters).unwrap().len() > 1000);
}
