//! `scratchnet search` end to end on the generated MNIST-format fixture (200 training images):
//! the same seed gives a byte-identical `search.csv` on 1 and 2 threads, the printed table is
//! the CSV's, bad flags are one-line errors with exit code 2 and no files, Ctrl-C exits 130.

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn small_search<'a>(data: &'a Path, out: &'a Path, threads: &'a str) -> Vec<&'a str> {
    vec![
        "search",
        "--data",
        s(data),
        "--out",
        s(out),
        "--threads",
        threads,
        "--trials",
        "6",
        "--epochs",
        "3",
        "--train-size",
        "150",
        "--batch",
        "20",
        "--hidden",
        "12,12",
        "--lr-exp",
        "-3,-1",
    ]
}

/// Rows of a `search.csv`: (trial, lr, weight decay, val acc, train acc).
fn rows(csv: &str) -> Vec<(usize, f64, f64, f64, f64)> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "trial,lr,weight_decay,val_acc,train_acc,seed,diverged,val_acc_per_epoch,train_acc_per_epoch"
        )
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                f[4].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_csv_on_one_thread_and_two() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let o1 = scratchnet(&small_search(&data, &one, "1"));
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    let o2 = scratchnet(&small_search(&data, &two, "2"));
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    let csv = std::fs::read(one.join("search.csv")).unwrap();
    assert_eq!(csv, std::fs::read(two.join("search.csv")).unwrap());
    assert_eq!(stdout(&o1), stdout(&o2));
    assert_eq!(listing(&one), ["search.csv", "search.png"]);
    let png = std::fs::read(one.join("search.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");

    let rows = rows(std::str::from_utf8(&csv).unwrap());
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    for &(_, lr, wd, val, train) in &rows {
        assert!((1e-3..1e-1).contains(&lr), "lr {lr}");
        assert!((1e-8..1e-4).contains(&wd), "weight decay {wd}");
        assert!((0.0..=1.0).contains(&val) && (0.0..=1.0).contains(&train));
    }
    // the printed table is the CSV's, best first, and the summary names the best row
    let out = stdout(&o1);
    let best: Vec<&str> = out.lines().filter(|l| l.starts_with("Best-")).collect();
    assert_eq!(best.len(), 6, "{out}");
    let printed: Vec<f64> = best
        .iter()
        .map(|l| {
            let v = l
                .split("val acc:")
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap();
            v.parse().unwrap()
        })
        .collect();
    assert!(printed.windows(2).all(|w| w[0] >= w[1]), "{out}");
    let top = rows
        .iter()
        .copied()
        .reduce(|a, b| if b.3 > a.3 { b } else { a })
        .unwrap();
    assert_eq!(printed[0], top.3);
    let summary = out.lines().last().unwrap();
    assert!(
        summary.starts_with(&format!(
            "best: lr {:e}, weight decay {:e} → val acc",
            top.1, top.2
        )),
        "{summary}"
    );

    // another seed, another table
    let three = tmp.path().join("three");
    let mut args = small_search(&data, &three, "2");
    args.extend(["--seed", "7"]);
    let o3 = scratchnet(&args);
    assert_eq!(o3.status.code(), Some(0), "{}", stderr(&o3));
    assert_ne!(csv, std::fs::read(three.join("search.csv")).unwrap());
}

#[test]
fn bad_flags_are_one_line_errors_with_exit_code_2_and_no_files() {
    let (_keep, data) = mnist_fixture();
    for (extra, expect) in [
        (&["--trials", "0"][..], "--trials"),
        (
            &["--trials", "10000000000"][..],
            "--trials must be at most 100000, got 10000000000",
        ),
        (&["--lr-exp", "-2,-6"][..], "--lr-exp"),
        (&["--lr-exp", "-6"][..], "--lr-exp"),
        (&["--lr-exp", "a,b"][..], "--lr-exp"),
        (&["--weight-decay-exp", "-8,400"][..], "--weight-decay-exp"),
        (&["--lr-exp", "-60,-2", "--dtype", "f32"][..], "--lr-exp"),
        (&["--validation", "1"][..], "--validation"),
        (
            &["--train-size", "201"][..],
            "--train-size 201 is more than the 200",
        ),
        (
            &["--batch", "200", "--train-size", "200"][..],
            "--batch 200 is larger than the training set (160 images)",
        ),
        (&["--hidden", "10,0"][..], "--hidden"),
        (&["--threads", "100000"][..], "--threads"),
        (&["--epochs", "x"][..], "--epochs"),
        (&["--learning-rate", "1"][..], "--learning-rate"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        let mut args = vec!["search", "--data", s(&data), "--out", s(&out)];
        args.extend_from_slice(extra);
        let o = scratchnet(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.starts_with("error: "), "{extra:?}: {err}");
        assert!(
            err.contains(expect),
            "{extra:?}: expected {expect:?} in {err:?}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{extra:?}: {err}");
        assert!(o.stdout.is_empty(), "{extra:?}");
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{extra:?} left files"
        );
    }
    // a folder that is not empty is refused before any training
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("mine"), "x").unwrap();
    let o = scratchnet(&["search", "--data", s(&data), "--out", s(tmp.path())]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_keeps_the_finished_trials_and_plot_redraws_them() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // a thousand short trials: seconds of work, stopped part way
    let child = Command::new(BIN)
        .args([
            "search",
            "--data",
            s(&data),
            "--out",
            s(&out),
            "--train-size",
            "200",
            "--trials",
            "1000",
            "--epochs",
            "2",
            "--hidden",
            "12",
            "--batch",
            "20",
        ])
        .env_remove("MNIST_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("search.csv")).unwrap();
    let rows = rows(&csv);
    assert!(
        (1..1000).contains(&rows.len()),
        "{} trials kept",
        rows.len()
    );
    assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "in trial order");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("interrupted: {} of 1000 trials", rows.len())),
        "{err}"
    );
    assert_eq!(
        stdout(&o)
            .lines()
            .filter(|l| l.starts_with("Best-"))
            .count(),
        rows.len()
    );
    // plot of a search folder draws the search again, from its CSV alone
    let png = std::fs::read(out.join("search.png")).unwrap();
    std::fs::remove_file(out.join("search.png")).unwrap();
    let o = scratchnet(&["plot", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("search.png")).unwrap(), png);
}

#[test]
fn a_search_where_every_trial_diverged_names_no_best() {
    let (_keep, data) = mnist_fixture();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut args = small_search(&data, &out, "2");
    // λ = 1e300: the weight-decay term of the loss is infinite from the first step
    args.extend(["--weight-decay-exp", "300,300"]);
    let o = scratchnet(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("no best: every trial diverged"), "{text}");
    assert!(!text.contains("best: lr"), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.starts_with("Best-"))
            .all(|l| l.ends_with("(diverged)"))
    );
}
