//! The classes of hostile input against the binary, on small generated MNIST-format data: nothing of the
//! user's is replaced or overwritten, no input panics or aborts, printing can never lose a run,
//! sizes are bounded, Ctrl-C is prompt, and one exit-code rule holds everywhere.

#![allow(dead_code)]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use scratchnet_trainer::RUN_FILES;

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).expect("valid summary.json")
}

/// A quick backprop run: 10 images a batch, 20 iterations an epoch.
fn quick<'a>(data: &'a Path, iters: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--quiet",
        "--grad",
        "backprop",
        "--batch",
        "10",
        "--iters",
        iters,
        "--data",
        s(data),
    ]
}

/// Runs the binary; fails the test if it takes more than `limit`.
fn run_within(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("MNIST_DIR")
        .env_remove("SCRATCHNET_STOP_AFTER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the scratchnet binary runs");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn run(args: &[&str]) -> Output {
    run_within(args, &[], Duration::from_secs(120))
}

/// Exit code 2, one line starting with `error: `, containing `expect`, no panic, no temp name.
fn assert_input_error(o: &Output, expect: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    assert!(
        !err.contains("panicked") && !err.contains("scratchnet-tmp"),
        "{err}"
    );
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("mkfifo runs");
    assert!(st.success());
}

fn model_of_a_quick_run(tmp: &Path, data: &Path) -> PathBuf {
    let out = tmp.join("run");
    let mut args = quick(data, "3");
    args.extend(["--out", s(&out)]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out.join("model.bin")
}

#[test]
fn export_never_replaces_a_device_fifo_or_folder_and_follows_links() {
    let (tmp, data) = mnist_fixture();
    let model = model_of_a_quick_run(tmp.path(), &data);
    let o = run(&["export", "--model", s(&model), "--npz", "/dev/null"]);
    assert_input_error(&o, "/dev/null is a character device, not a regular file");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );

    let fifo = tmp.path().join("p.npz");
    mkfifo(&fifo);
    let o = run_within(
        &["export", "--model", s(&model), "--npz", s(&fifo)],
        &[],
        Duration::from_secs(20),
    );
    assert_input_error(&o, "is a FIFO, not a regular file");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    let dir = tmp.path().join("d.npz");
    std::fs::create_dir(&dir).unwrap();
    let o = run(&["export", "--model", s(&model), "--npz", s(&dir)]);
    assert_input_error(&o, "is a directory, not a regular file");

    // a folder that does not exist: named, exit 2, nothing created (assert_input_error also
    // rules out the temp file's name)
    let missing = tmp.path().join("missing");
    let o = run(&[
        "export",
        "--model",
        s(&model),
        "--npz",
        s(&missing.join("x.npz")),
    ]);
    assert_input_error(&o, "its folder");
    assert!(
        stderr(&o).contains("missing does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(!missing.exists());

    let target = tmp.path().join("target.npz");
    std::fs::write(&target, b"old").unwrap();
    let link = tmp.path().join("link.npz");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = run(&["export", "--model", s(&model), "--npz", s(&link)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(&std::fs::read(&target).unwrap()[..2], b"PK");

    // plot into a folder whose loss.png is a FIFO: refused, FIFO kept
    let run_dir = model.parent().unwrap();
    std::fs::remove_file(run_dir.join("loss.png")).unwrap();
    mkfifo(&run_dir.join("loss.png"));
    let o = run_within(&["plot", s(run_dir)], &[], Duration::from_secs(20));
    assert_input_error(&o, "is a FIFO, not a regular file");
}

#[test]
fn a_run_folder_belongs_to_one_run() {
    let (tmp, data) = mnist_fixture();
    // victim/x/.. is victim: refused, victim untouched
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("loss.csv"), "mine").unwrap();
    let sneaky = victim.join("x/..");
    let mut args = quick(&data, "3");
    args.extend(["--out", s(&sneaky)]);
    assert_input_error(&run(&args), "is not empty");
    assert_eq!(listing(&victim), ["loss.csv"]);
    assert_eq!(
        std::fs::read_to_string(victim.join("loss.csv")).unwrap(),
        "mine"
    );

    // two runs given the same --out at once: exactly one writes it
    let same = tmp.path().join("same");
    let spawn = || {
        let mut args = quick(&data, "400");
        args.extend(["--out", s(&same)]);
        Command::new(BIN)
            .args(&args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(2)),
        "{codes:?}: {} | {}",
        stderr(&a),
        stderr(&b)
    );
    let loser = if a.status.code() == Some(2) { &a } else { &b };
    let e = stderr(loser);
    assert!(
        e.contains("in use by another run") || e.contains("is not empty"),
        "{e}"
    );
    assert_eq!(listing(&same), RUN_FILES);
    assert_eq!(json(&same.join("summary.json"))["iters_done"], 400);

    // default names of runs started in the same second differ
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let spawn = || {
        Command::new(BIN)
            .args(quick(&data, "3"))
            .current_dir(&cwd)
            .env_remove("CARGO_MANIFEST_DIR")
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let kids: Vec<_> = (0..3).map(|_| spawn()).collect();
    for k in kids {
        assert_eq!(k.wait_with_output().unwrap().status.code(), Some(0));
    }
    let runs = listing(&cwd.join("runs"));
    assert_eq!(runs.len(), 3, "{runs:?}");
    for r in runs {
        assert_eq!(listing(&cwd.join("runs").join(r)), RUN_FILES);
    }
}

/// An interrupted run (10 of 40 iterations) in `tmp/<name>`.
fn interrupted_run(data: &Path, out: &Path, hidden: &str) {
    let mut args = quick(data, "40");
    args.extend(["--hidden", hidden, "--out", s(out)]);
    let o = run_within(
        &args,
        &[("SCRATCHNET_STOP_AFTER", "10")],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
}

#[test]
fn resume_refuses_a_checkpoint_of_another_run_and_an_unwritable_folder_before_training() {
    let (tmp, data) = mnist_fixture();
    let other = tmp.path().join("other");
    let mine = tmp.path().join("mine");
    interrupted_run(&data, &other, "7");
    interrupted_run(&data, &mine, "50");
    let loss_before = std::fs::read(mine.join("loss.csv")).unwrap();
    std::fs::copy(other.join("checkpoint.bin"), mine.join("checkpoint.bin")).unwrap();
    let o = run(&["train", "--resume", s(&mine), "--data", s(&data)]);
    assert_input_error(&o, "is not this folder's run");
    assert_eq!(std::fs::read(mine.join("loss.csv")).unwrap(), loss_before);
    assert_eq!(
        json(&mine.join("summary.json"))["net"]["layers"][0],
        serde_json::json!({"affine": 50})
    );

    // summary.json replaced by a folder: refused before any training
    let ro = tmp.path().join("ro");
    interrupted_run(&data, &ro, "50");
    std::fs::remove_file(ro.join("summary.json")).unwrap();
    std::fs::create_dir(ro.join("summary.json")).unwrap();
    let loss_before = std::fs::read(ro.join("loss.csv")).unwrap();
    let o = run(&["train", "--resume", s(&ro), "--data", s(&data)]);
    assert_input_error(&o, "summary.json is a directory, not a regular file");
    assert_eq!(std::fs::read(ro.join("loss.csv")).unwrap(), loss_before);

    // stale temp files of a killed session are removed by --resume, nothing else
    std::fs::remove_dir(ro.join("summary.json")).unwrap();
    std::fs::write(ro.join(".model.bin.scratchnet-tmp-AbC123"), b"half").unwrap();
    std::fs::write(ro.join("notes.txt"), b"mine").unwrap();
    let o = run(&["train", "--quiet", "--resume", s(&ro), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut expect: Vec<&str> = RUN_FILES.to_vec();
    expect.push("notes.txt");
    expect.sort();
    assert_eq!(listing(&ro), expect);
    assert_eq!(json(&ro.join("summary.json"))["iters_done"], 40);
}

#[test]
fn the_folders_identity_survives_a_kill_that_left_no_summary() {
    let (tmp, data) = mnist_fixture();
    let other = tmp.path().join("other");
    let mine = tmp.path().join("mine");
    interrupted_run(&data, &other, "7");
    interrupted_run(&data, &mine, "50");
    // A SIGKILL leaves no summary.json: run.id, written first, still names the run.
    std::fs::remove_file(mine.join("summary.json")).unwrap();
    let theirs = std::fs::read(other.join("checkpoint.bin")).unwrap();
    let own = std::fs::read(mine.join("checkpoint.bin")).unwrap();
    std::fs::write(mine.join("checkpoint.bin"), &theirs).unwrap();
    let loss_before = std::fs::read(mine.join("loss.csv")).unwrap();
    let o = run(&["train", "--resume", s(&mine), "--data", s(&data)]);
    assert_input_error(&o, "is not this folder's run");
    assert!(stderr(&o).contains("run.id to run"), "{}", stderr(&o));
    assert_eq!(std::fs::read(mine.join("loss.csv")).unwrap(), loss_before);
    assert_eq!(std::fs::read(mine.join("checkpoint.bin")).unwrap(), theirs);

    // With neither run.id nor summary.json nothing vouches for the checkpoint.
    std::fs::write(mine.join("checkpoint.bin"), &own).unwrap();
    let id = std::fs::read(mine.join("run.id")).unwrap();
    std::fs::remove_file(mine.join("run.id")).unwrap();
    let o = run(&["train", "--resume", s(&mine), "--data", s(&data)]);
    assert_input_error(&o, "has neither run.id nor summary.json");
    assert_eq!(std::fs::read(mine.join("loss.csv")).unwrap(), loss_before);

    // Its own checkpoint, with run.id back, resumes to the end.
    std::fs::write(mine.join("run.id"), &id).unwrap();
    let o = run(&["train", "--quiet", "--resume", s(&mine), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(listing(&mine), RUN_FILES);
    assert_eq!(json(&mine.join("summary.json"))["iters_done"], 40);
}

/// Copies the files of run folder `from` into a new folder `to`.
fn copy_run(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn a_checkpoint_that_contradicts_its_own_configuration_is_refused() {
    use scratchnet_network::optimizer::AnyOptimizer;
    use scratchnet_trainer::Checkpoint;
    let (tmp, data) = mnist_fixture();
    let base = tmp.path().join("base");
    let mut args = quick(&data, "40");
    args.extend(["--hidden", "7", "--batch-norm", "--optimizer", "adam"]);
    args.extend(["--out", s(&base)]);
    let o = run_within(
        &args,
        &[("SCRATCHNET_STOP_AFTER", "20")],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let ck = Checkpoint::<f64>::read(&base.join("checkpoint.bin")).unwrap();
    let AnyOptimizer::Adam(adam) = &ck.optimizer else {
        panic!("an Adam run")
    };
    assert_eq!(adam.steps(), 20);

    let mut no_bn = ck.clone(); // batch norm stripped from the config and the net
    no_bn
        .config
        .net
        .layers
        .retain(|l| *l != scratchnet_network::LayerSpec::BatchNorm);
    no_bn.net = no_bn
        .config
        .new_net::<f64>(&mut scratchnet_tensor::rng_from_seed(0))
        .unwrap();
    let mut stripped_net = no_bn.clone(); // only the net: the config still claims batch norm
    stripped_net.config = ck.config.clone();
    no_bn.optimizer = no_bn.config.optimizer.build();
    let mut adam_json = serde_json::to_value(&ck.optimizer).unwrap();
    adam_json["Adam"]["iter"] = serde_json::json!(u64::MAX);
    let mut forever = ck.clone();
    forever.optimizer = serde_json::from_value(adam_json).unwrap();
    let mut beta = ck.clone();
    if let AnyOptimizer::Adam(a) = &mut beta.optimizer {
        a.beta1 = 1.0;
    }
    let mut bad_lr = ck.clone();
    bad_lr.config.optimizer.lr = -1.0;
    bad_lr.optimizer.set_lr(-1.0);
    let mut nan_wall = ck.clone();
    nan_wall.wall_s = f64::NAN;
    let cases = [
        (no_bn, "is not this folder's run"),
        (stripped_net, "contents do not fit together"),
        (
            forever,
            "Adam has taken 18446744073709551615 steps in 20 iterations",
        ),
        (
            beta,
            "its optimizer's hyper-parameters are not its configuration's",
        ),
        (
            bad_lr,
            "its configuration: lr must be a finite number > 0, got -1",
        ),
        (nan_wall, "its wall time NaN s is not a time"),
    ];
    for (k, (crafted, expect)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{k}"));
        copy_run(&base, &dir);
        crafted.write(&dir.join("checkpoint.bin")).unwrap();
        let before = std::fs::read(dir.join("loss.csv")).unwrap();
        let o = run(&["train", "--resume", s(&dir), "--data", s(&data)]);
        assert_input_error(&o, expect);
        assert!(!stderr(&o).contains("--"), "names a flag: {}", stderr(&o));
        assert_eq!(std::fs::read(dir.join("loss.csv")).unwrap(), before);
    }
}

#[test]
fn a_gradient_check_states_what_it_checked_and_never_reads_nan_as_agreement() {
    let (_tmp, data) = mnist_fixture();
    let bn = [
        "gradcheck",
        "--batch",
        "3",
        "--hidden",
        "6,6",
        "--activation",
        "relu",
        "--init",
        "he",
        "--batch-norm",
        "--dropout",
        "0.1",
        "--weight-decay",
        "0.1",
        "--data",
        s(&data),
    ];
    let o = run(&bn);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "relu, batch norm, dropout 0.1, λ 0.1 network (seed 42, one set of dropout masks)"
        ),
        "{out}"
    );
    assert!(
        out.contains("b1, b2: gradient 0 in exact arithmetic"),
        "{out}"
    );
    assert!(out.contains("verdict: PASS"), "{out}");
    // every row's figures start in the same column, gamma1 as W1
    let col = |name: &str| {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap();
        line.len() - line[name.len()..].trim_start().len()
    };
    assert_eq!(col("gamma1"), col("W1"), "{out}");

    // weights of 1e200 overflow to NaN gradients: a failure, exit 1, never "0.000e0"
    let nan = [
        "gradcheck",
        "--batch",
        "3",
        "--hidden",
        "6,6",
        "--activation",
        "relu",
        "--init",
        "1e200",
        "--data",
        s(&data),
    ];
    let o = run(&nan);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("NaN") && !stdout(&o).contains("PASS"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("FAILED: a gradient is not finite"),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "gradcheck",
        "--batch",
        "3",
        "--hidden",
        "6",
        "--dtype",
        "f32",
        "--data",
        s(&data),
    ]);
    assert!(stdout(&o).contains("check in f64"), "{}", stdout(&o));
}

#[test]
fn eval_says_when_a_model_holds_nan_weights() {
    let (tmp, data) = mnist_fixture();
    let path = tmp.path().join("nan.bin");
    let mut net = scratchnet_network::TwoLayerNet::<f64>::new(
        784,
        5,
        10,
        0.01,
        &mut scratchnet_tensor::rng_from_seed(0),
    );
    net.params.w1[[0, 0]] = f64::NAN;
    net.save(&path).unwrap();
    let o = run(&["eval", "--model", s(&path), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("holds parameters that are NaN or infinite"),
        "{}",
        stderr(&o)
    );
}

/// Runs the binary under `sh` and returns its exit code and the bytes it passed to `write`
/// (`wchar`): the kernel adds a reaped child's I/O counters to its parent's `/proc/PID/io`.
fn bytes_written(args: &[&str]) -> (i32, u64) {
    let script = r#""$0" "$@" >/dev/null 2>&1; echo "rc $?"; cat /proc/$$/io"#;
    let o = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(BIN)
        .args(args)
        .env_remove("MNIST_DIR")
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .trim()
            .to_owned()
    };
    (
        field("rc ").parse().unwrap(),
        field("wchar:").parse().unwrap(),
    )
}

#[test]
fn a_run_with_tiny_epochs_does_not_rewrite_its_history_at_every_step() {
    let (tmp, data) = mnist_fixture();
    let out = tmp.path().join("run");
    // 100 training images in batches of 100: an epoch, and an evaluation, every iteration
    let args = [
        "train",
        "--quiet",
        "--grad",
        "backprop",
        "--hidden",
        "30",
        "--train-size",
        "100",
        "--iters",
        "3000",
        "--data",
        s(&data),
        "--out",
        s(&out),
    ];
    let (code, written) = bytes_written(&args);
    assert_eq!(code, 0);
    let final_bytes: u64 = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    // the final files a few times over; written at every evaluation it was ~1500 times over
    assert!(written >= final_bytes, "{written} bytes written");
    assert!(
        written < 10 * final_bytes,
        "wrote {written} bytes for {final_bytes} bytes of files"
    );
}

#[test]
fn a_sparse_giant_model_or_checkpoint_is_refused_without_reading_it() {
    let (tmp, data) = mnist_fixture();
    let out = tmp.path().join("mine");
    interrupted_run(&data, &out, "7");
    for (file, args) in [
        ("model.bin", vec!["eval", "--model"]),
        ("checkpoint.bin", vec!["train", "--resume"]),
    ] {
        let path = out.join(file);
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_len(3 << 30).unwrap(); // 3 GiB, nearly all of it a hole
        let target = if file == "model.bin" {
            path.clone()
        } else {
            out.clone()
        };
        let mut args = args.clone();
        args.extend([s(&target), "--data", s(&data)]);
        // reading 3 GiB takes seconds and 3 GiB of memory; the header says it cannot be
        let o = run_within(&args, &[], Duration::from_secs(5));
        assert_input_error(&o, "3221225472 bytes, more than the");
    }
}

#[test]
fn a_closed_or_full_stdout_never_loses_a_run() {
    let (tmp, data) = mnist_fixture();
    // stdout closed at once (as `| head -0`): every file is written, exit 0
    let out = tmp.path().join("pipe");
    let mut args = quick(&data, "300");
    args.retain(|a| *a != "--quiet");
    args.extend(["--out", s(&out)]);
    let mut child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(listing(&out), RUN_FILES);
    assert_eq!(json(&out.join("summary.json"))["iters_done"], 300);

    // stdout and stderr on /dev/full
    let out2 = tmp.path().join("full");
    let mut args = quick(&data, "300");
    args.retain(|a| *a != "--quiet");
    args.extend(["--out", s(&out2)]);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let st = Command::new(BIN)
        .args(&args)
        .stdout(full())
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    assert_eq!(listing(&out2), RUN_FILES);

    // eval into a closed pipe
    let mut child = Command::new(BIN)
        .args([
            "eval",
            "--model",
            s(&out.join("model.bin")),
            "--data",
            s(&data),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn framed(magic: &[u8; 8], version: u32, body: &[u8]) -> Vec<u8> {
    let mut b = magic.to_vec();
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(body);
    let d = Sha256::digest(&b);
    b.extend_from_slice(&d);
    b
}

#[test]
fn huge_lengths_and_other_versions_in_valid_files_are_errors_not_aborts() {
    let (tmp, data) = mnist_fixture();
    let mut body = (1u64 << 40).to_le_bytes().to_vec(); // a dtype string of 2^40 bytes
    body.extend_from_slice(b"f64");
    body.extend_from_slice(&[0; 64]);
    let model = tmp.path().join("huge.bin");
    std::fs::write(&model, framed(b"SNETMODL", 1, &body)).unwrap();
    assert_input_error(
        &run(&["eval", "--model", s(&model), "--data", s(&data)]),
        "corrupt",
    );
    let npz = tmp.path().join("x.npz");
    assert_input_error(
        &run(&["export", "--model", s(&model), "--npz", s(&npz)]),
        "corrupt",
    );
    assert!(!npz.exists());

    let ck_dir = tmp.path().join("ck");
    std::fs::create_dir(&ck_dir).unwrap();
    let mut body = vec![0u8; 8]; // grad, numgrad
    body.extend_from_slice(&(1u64 << 40).to_le_bytes());
    body.extend_from_slice(&[0; 64]);
    std::fs::write(ck_dir.join("checkpoint.bin"), framed(b"SNETCKPT", 1, &body)).unwrap();
    assert_input_error(
        &run(&["train", "--resume", s(&ck_dir), "--data", s(&data)]),
        "corrupt",
    );

    // a version of either format that this build does not know (model files have versions
    // 1 to 3 since any network is version 3): refused by name
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (file, dest) in [
        ("checkpoint.bin", "checkpoint.bin"),
        ("model.bin", "model.bin"),
    ] {
        let mut b = std::fs::read(golden.join(file)).unwrap();
        b[8] = 4;
        let n = b.len() - 32;
        let d = Sha256::digest(&b[..n]);
        b[n..].copy_from_slice(&d);
        std::fs::write(ck_dir.join(dest), b).unwrap();
    }
    assert_input_error(
        &run(&["train", "--resume", s(&ck_dir), "--data", s(&data)]),
        "version 4",
    );
    assert_input_error(
        &run(&[
            "eval",
            "--model",
            s(&ck_dir.join("model.bin")),
            "--data",
            s(&data),
        ]),
        "version 4",
    );
    // a FIFO or a device as input: refused without blocking
    let fifo_dir = tmp.path().join("fifo");
    std::fs::create_dir(&fifo_dir).unwrap();
    mkfifo(&fifo_dir.join("checkpoint.bin"));
    let o = run_within(
        &["train", "--resume", s(&fifo_dir), "--data", s(&data)],
        &[],
        Duration::from_secs(20),
    );
    assert_input_error(&o, "is a FIFO, not a regular file");
    assert_input_error(
        &run(&["eval", "--model", "/dev/zero", "--data", s(&data)]),
        "not a regular file",
    );
}

#[test]
fn version_1_files_written_by_earlier_builds_still_resume() {
    // golden/: an f32 784-2-10 run stopped after 2 of 4 iterations by the build before
    // scratchnet-fileio, on 200 training images; its files have no run id.
    let (tmp, data) = mnist_fixture();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let ck = scratchnet_trainer::Checkpoint::<f32>::read(&golden.join("checkpoint.bin")).unwrap();
    assert_eq!(
        (
            ck.iters_done,
            ck.config.schedule.iters,
            ck.config.net.sizes(),
            ck.run_id
        ),
        (2, 4, vec![784, 2, 10], None)
    );
    let net = scratchnet_network::Net::<f32>::load(&golden.join("model.bin")).unwrap();
    assert_eq!(net, ck.net);
    assert_eq!(net.spec().to_string(), "affine 2, sigmoid, affine 10");
    let dir = tmp.path().join("old");
    std::fs::create_dir(&dir).unwrap();
    for f in [
        "checkpoint.bin",
        "summary.json",
        "loss.csv",
        "accuracy.csv",
        "model.bin",
    ] {
        std::fs::copy(golden.join(f), dir.join(f)).unwrap();
    }
    let o = run(&["train", "--quiet", "--resume", s(&dir), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&dir.join("summary.json"))["iters_done"], 4);
}

#[test]
fn one_validation_for_every_subcommand() {
    let (_tmp, data) = mnist_fixture();
    for extra in [
        &["--weight-init-std", "1e39", "--dtype", "f32"][..],
        &["--hidden", "18446744073709551615"][..],
        &["--batch", "18446744073709551615"][..],
        &["--threads", "10000"][..],
    ] {
        let mut args = vec!["gradcheck", "--data", s(&data)];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
        assert!(o.stdout.is_empty(), "{extra:?} printed a table");
    }
}

fn interrupt_after(args: &[&str], wait: Duration) -> (Output, Duration) {
    let child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(wait);
    let sent = Instant::now();
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    (o, sent.elapsed())
}

#[test]
fn ctrl_c_in_gradcheck_exits_130_at_once() {
    let (_tmp, data) = mnist_fixture();
    // the book's generic numerical gradient of 800k parameters: minutes of work
    let (o, took) = interrupt_after(
        &[
            "gradcheck",
            "--hidden",
            "1000",
            "--batch",
            "100",
            "--data",
            s(&data),
        ],
        Duration::from_millis(1500),
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        !stderr(&o).contains("stopping after the current iteration"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ctrl_c_in_training_stops_with_every_file_and_resumes() {
    let (tmp, data) = mnist_fixture();
    let out = tmp.path().join("run");
    let mut args = quick(&data, "100000");
    args.extend(["--out", s(&out)]);
    let (o, took) = interrupt_after(&args, Duration::from_millis(1500));
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(listing(&out), RUN_FILES);
    let sum = json(&out.join("summary.json"));
    assert_eq!(sum["interrupted"], true);
    let done = sum["iters_done"].as_u64().unwrap();
    assert!(done > 0 && done < 100_000, "{done}");
}

#[test]
fn exit_codes_follow_one_rule_and_help_states_it() {
    let o = run(&["--help"]);
    let h = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(h.contains("Exit codes: 0 done; 2 the input"), "{h}");
    assert!(h.contains("130 interrupted"), "{h}");
    let (tmp, data) = mnist_fixture();
    // an output path that cannot be a folder or a file is the input's fault: 2 for every command
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let mut args = quick(&data, "3");
    args.extend(["--out", s(&file)]);
    assert_input_error(&run(&args), "exists and is not a folder");
    let model = model_of_a_quick_run(tmp.path(), &data);
    let o = run(&["export", "--model", s(&model), "--npz", s(tmp.path())]);
    assert_input_error(&o, "is a directory");
    let o = run(&[
        "eval",
        "--model",
        s(&tmp.path().join("none.bin")),
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn banners_and_progress_read_well() {
    let (tmp, data) = mnist_fixture();
    let out = tmp.path().join("run");
    let mut args = quick(&data, "40");
    args.retain(|a| *a != "--quiet");
    args.extend(["--lr", "3e38", "--out", s(&out)]);
    let o = run(&args);
    let err = stderr(&o);
    assert!(err.contains("lr 3e38,"), "{err}");
    assert!(
        !err.contains("300000000000000000000000000000000000000"),
        "{err}"
    );
    let rate_line = err
        .lines()
        .find(|l| l.contains(" it/s  ETA ") && !l.contains("--"))
        .unwrap_or_else(|| panic!("{err}"));
    let rate = rate_line
        .split("  ")
        .find(|p| p.ends_with(" it/s  ETA") || p.ends_with("it/s"))
        .unwrap_or(rate_line);
    assert!(!rate.contains(','), "{rate_line}");
}

#[test]
fn a_running_run_cannot_be_resumed_or_reused_at_the_same_time() {
    let (tmp, data) = mnist_fixture();
    let out = tmp.path().join("busy");
    // 10 of 1,000,000 iterations: its resume runs long enough
    let mut args = quick(&data, "1000000");
    args.extend(["--out", s(&out)]);
    let o = run_within(
        &args,
        &[("SCRATCHNET_STOP_AFTER", "10")],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    // a long resume holds the folder
    let mut long = Command::new(BIN)
        .args(["train", "--quiet", "--resume", s(&out), "--data", s(&data)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // wait until it holds the lock
    let lock = out.join(scratchnet_fileio::LOCK_FILE);
    let start = Instant::now();
    while !lock.exists() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(lock.exists(), "the resumed run never took the lock");
    let o = run(&["train", "--resume", s(&out), "--data", s(&data)]);
    let _ = long.kill();
    let _ = long.wait();
    assert_input_error(&o, "in use by another run");
}
