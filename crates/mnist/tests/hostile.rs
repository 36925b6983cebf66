//! Issue 9's classes, each reproduced against the library that `cargo xtask fetch-mnist`,
//! `--from` and the trainer's auto-fetch call: misbehaving loopback servers (drip, endless body,
//! gzip bomb, redirects), special files under MNIST names (FIFO, device, folder, 30 GB sparse
//! file), interrupts, killed fetches and two fetches at once. Every test is hermetic (temp
//! folders, 127.0.0.1) and bounded to a few seconds: caps and deadlines come from small fixtures
//! and short options.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::http::{Reply, Server};
use common::{Fixture, Style, fixture, listing};
use scratchnet_mnist::download::{FetchOptions, fetch, redirect_target};
use scratchnet_mnist::{
    CACHE_FILE, CacheUse, ImportOptions, MnistError, MnistFile, idx, import_with, load_raw,
    load_raw_report,
};

const GZ: Style = Style {
    gzip: true,
    dotted: false,
};

fn good_routes(fx: &Fixture) -> HashMap<String, Reply> {
    MnistFile::ALL
        .into_iter()
        .map(|f| (f.remote_name(), Reply::Body(fx.bytes(f, true))))
        .collect()
}

fn opts(server: &Server, fx: &Fixture) -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(3),
        checksums: fx.checksums.clone(),
        ..FetchOptions::only([server.base.clone()])
    }
}

/// The one cause of the single attempt at the first file.
fn only_cause(err: &MnistError) -> &str {
    match err {
        MnistError::AllMirrorsFailed { attempts, .. } if attempts.len() == 1 => &attempts[0].cause,
        other => panic!("expected one failed attempt, got {other}"),
    }
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs `f` on a thread and fails the test if it takes longer than `limit` (a hang).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still running after {limit:?}: it hangs"))
}

// ---- downloads bounded -------------------------------------------------------------------

#[test]
fn a_drip_of_one_byte_per_read_fails_at_the_deadline() {
    let fx = fixture(2, 1, 70);
    let mut routes = good_routes(&fx);
    let body = fx.bytes(MnistFile::TrainImages, true);
    routes.insert(
        MnistFile::TrainImages.remote_name(),
        Reply::Drip {
            body,
            every: Duration::from_millis(50),
        },
    );
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let o = FetchOptions {
        deadline: Duration::from_millis(600),
        ..opts(&server, &fx)
    };
    let t = Instant::now();
    let err = fetch(dir.path(), &o).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let cause = only_cause(&err);
    assert!(
        cause.starts_with("no complete file within the deadline of 0.600 s ("),
        "{cause}"
    );
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn an_endless_body_stops_at_the_size_cap_and_leaves_nothing() {
    let fx = fixture(2, 1, 71);
    let mut routes = good_routes(&fx);
    routes.insert(MnistFile::TrainImages.remote_name(), Reply::Endless);
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &opts(&server, &fx)).unwrap_err();
    let cap = fx.checksums.max_file_len(MnistFile::TrainImages);
    assert_eq!(
        only_cause(&err),
        format!(
            "sent more than {cap} bytes, more than any copy of train-images-idx3-ubyte.gz can have"
        )
    );
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn an_announced_oversized_body_is_refused_before_reading() {
    let fx = fixture(2, 1, 72);
    let mut routes = good_routes(&fx);
    routes.insert(
        MnistFile::TrainImages.remote_name(),
        Reply::Truncated {
            body: Vec::new(),
            claimed: 3 << 30,
        },
    );
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &opts(&server, &fx)).unwrap_err();
    assert!(
        only_cause(&err).starts_with(&format!("announces {} bytes, more than the", 3u64 << 30)),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_gzip_bomb_stops_at_the_decompressed_size() {
    let fx = fixture(2, 1, 73);
    let mut routes = good_routes(&fx);
    // 2 MB of zeros compress to about 2 KB, within the download cap, far over the expected size.
    let bomb = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 2 << 20]).unwrap();
        enc.finish().unwrap()
    };
    assert!((bomb.len() as u64) < fx.checksums.max_file_len(MnistFile::TrainImages));
    routes.insert(MnistFile::TrainImages.remote_name(), Reply::Body(bomb));
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &opts(&server, &fx)).unwrap_err();
    assert_eq!(
        only_cause(&err),
        format!(
            "decompresses to more than {} bytes, the size of train-images-idx3-ubyte",
            fx.checksums.len(MnistFile::TrainImages)
        )
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn redirects_to_another_host_are_followed_within_the_limit() {
    let fx = fixture(2, 1, 74);
    let target = Server::start(good_routes(&fx));
    let routes = MnistFile::ALL
        .into_iter()
        .map(|f| {
            // Another host and port: 'localhost' is not the '127.0.0.1' of the first server.
            let to = target.base.replace("127.0.0.1", "localhost");
            (
                f.remote_name(),
                Reply::Redirect(format!("{to}{}", f.remote_name())),
            )
        })
        .collect();
    let hop = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let report = fetch(dir.path(), &opts(&hop, &fx)).unwrap();
    assert_eq!(report.copied(), 4);
    assert_eq!(target.hits().len(), 4);
}

#[test]
fn a_redirect_loop_stops_after_the_limit() {
    let fx = fixture(2, 1, 75);
    let routes = MnistFile::ALL
        .into_iter()
        .map(|f| {
            (
                f.remote_name(),
                Reply::Redirect(format!("/{}", f.remote_name())),
            )
        })
        .collect();
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &opts(&server, &fx)).unwrap_err();
    assert_eq!(only_cause(&err), "more than 5 redirects");
    assert_eq!(
        server.hits().len(),
        6,
        "the first request and five redirects"
    );
}

#[test]
fn redirects_to_other_schemes_and_downgrades_are_refused() {
    let fx = fixture(2, 1, 76);
    let mut routes = good_routes(&fx);
    routes.insert(
        MnistFile::TrainImages.remote_name(),
        Reply::Redirect("file:///etc/passwd".into()),
    );
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &opts(&server, &fx)).unwrap_err();
    assert_eq!(
        only_cause(&err),
        "refused a redirect to file:///etc/passwd: only http and https are followed"
    );
    // https -> http cannot be served on loopback without TLS; the policy itself:
    assert_eq!(
        redirect_target(
            "https://mirror.example/m/a.gz",
            "http://mirror.example/m/a.gz"
        )
        .unwrap_err(),
        "refused a redirect from https to http (http://mirror.example/m/a.gz): downgrades are never followed"
    );
    assert_eq!(
        redirect_target("https://a.example/m/a.gz", "//b.example/a.gz").unwrap(),
        "https://b.example/a.gz"
    );
    assert_eq!(
        redirect_target("http://a.example/m/a.gz", "HTTPS://b.example/a.gz").unwrap(),
        "HTTPS://b.example/a.gz"
    );
}

#[test]
fn timeouts_out_of_range_are_errors_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    for (o, want) in [
        (
            FetchOptions {
                timeout: Duration::ZERO,
                ..FetchOptions::only(["http://127.0.0.1:9/"])
            },
            "invalid timeout: must be more than 0 s and at most 3600 s, got 0 s",
        ),
        (
            FetchOptions {
                timeout: Duration::from_secs(u64::MAX),
                ..FetchOptions::only(["http://127.0.0.1:9/"])
            },
            "invalid timeout: must be more than 0 s and at most 3600 s, got 18446744073709551615 s",
        ),
        (
            FetchOptions {
                deadline: Duration::MAX,
                ..FetchOptions::only(["http://127.0.0.1:9/"])
            },
            "invalid deadline: must be more than 0 s and at most 86400 s, got 18446744073709551615.1000 s",
        ),
    ] {
        let err = fetch(dir.path().join("d"), &o).unwrap_err();
        assert!(matches!(err, MnistError::InvalidOption { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(want.split(", got").next().unwrap()),
            "{msg}"
        );
    }
    assert!(
        !dir.path().join("d").exists(),
        "nothing created on bad options"
    );
}

// ---- special files as inputs -------------------------------------------------------------

#[test]
fn a_fifo_under_an_mnist_name_is_refused_not_waited_on() {
    let fx = fixture(2, 1, 77);
    let dir = tempfile::tempdir().unwrap();
    fx.write(dir.path(), GZ);
    let name = dir.path().join(MnistFile::TrainImages.remote_name());
    std::fs::remove_file(&name).unwrap();
    mkfifo(&name);
    let p = dir.path().to_owned();
    let err = within(Duration::from_secs(5), move || load_raw(p).unwrap_err());
    assert_eq!(
        err.to_string(),
        format!("{} is a FIFO, not a regular file", name.display())
    );
    // fetch refuses it too, even forced: it is not a file to move aside or replace
    let server = Server::start(good_routes(&fx));
    let o = FetchOptions {
        force: true,
        ..opts(&server, &fx)
    };
    let p = dir.path().to_owned();
    let err = within(Duration::from_secs(5), move || fetch(p, &o).unwrap_err());
    assert!(
        err.to_string().ends_with("is a FIFO, not a regular file"),
        "{err}"
    );
    assert!(server.hits().is_empty());
}

#[test]
fn a_fifo_as_the_cache_is_skipped_and_kept() {
    let fx = fixture(3, 2, 78);
    let dir = tempfile::tempdir().unwrap();
    fx.write(dir.path(), GZ);
    let cache = dir.path().join(CACHE_FILE);
    mkfifo(&cache);
    let p = dir.path().to_owned();
    let (raw, how) = within(Duration::from_secs(5), move || load_raw_report(p).unwrap());
    assert_eq!(raw.train.len(), 3);
    let CacheUse::Rebuilt {
        reason,
        write_error,
    } = how
    else {
        panic!("{how:?}")
    };
    let want = format!("{} is a FIFO, not a regular file", cache.display());
    assert_eq!(reason, want);
    assert_eq!(write_error.as_deref(), Some(want.as_str()));
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&cache)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_device_or_a_folder_under_an_mnist_name_is_not_regular_rather_than_missing() {
    let fx = fixture(2, 1, 79);
    let dir = tempfile::tempdir().unwrap();
    fx.write(dir.path(), GZ);
    let labels = dir.path().join(MnistFile::TestLabels.remote_name());
    std::fs::remove_file(&labels).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &labels).unwrap();
    let err = within(Duration::from_secs(5), {
        let p = dir.path().to_owned();
        move || load_raw(p).unwrap_err()
    });
    assert_eq!(
        err.to_string(),
        format!(
            "{} is a character device, not a regular file",
            labels.display()
        )
    );
    std::fs::remove_file(&labels).unwrap();
    std::fs::create_dir(&labels).unwrap();
    let err = load_raw(dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{} is a directory, not a regular file", labels.display())
    );
    assert!(scratchnet_mnist::missing_files(dir.path()).is_empty());
}

#[test]
fn a_30_gb_sparse_file_under_an_mnist_name_is_refused_from_its_size() {
    let fx = fixture(2, 1, 80);
    let dir = tempfile::tempdir().unwrap();
    fx.write(dir.path(), GZ);
    let big = dir.path().join(MnistFile::TrainImages.remote_name());
    std::fs::File::create(&big)
        .unwrap()
        .set_len(30 << 30)
        .unwrap();
    let t = Instant::now();
    let err = load_raw(dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{} is larger than ", big.display())),
        "{err}"
    );
    // fetch: not the expected content, so reported and left alone
    let server = Server::start(good_routes(&fx));
    let err = fetch(dir.path(), &opts(&server, &fx)).unwrap_err();
    assert!(matches!(err, MnistError::Unverified { .. }), "{err}");
    assert!(
        err.to_string().contains("more than any copy of it"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&big).unwrap().len(), 30 << 30);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[test]
fn import_refuses_a_fifo_in_the_source_folder() {
    let fx = fixture(2, 1, 81);
    let src = tempfile::tempdir().unwrap();
    fx.write(src.path(), GZ);
    let name = src.path().join(MnistFile::TrainLabels.remote_name());
    std::fs::remove_file(&name).unwrap();
    mkfifo(&name);
    let dst = tempfile::tempdir().unwrap();
    let o = ImportOptions {
        checksums: fx.checksums.clone(),
        force: false,
    };
    let (s, d) = (src.path().to_owned(), dst.path().to_owned());
    let err = within(Duration::from_secs(5), move || {
        import_with(s, d, &o).unwrap_err()
    });
    assert_eq!(
        err.to_string(),
        format!("{} is a FIFO, not a regular file", name.display())
    );
    // the train images copied before stay (verified); no temp file is left
    assert!(listing(dst.path()).iter().all(|n| !n.ends_with(".part")));
}

#[test]
fn import_refuses_a_huge_sparse_source_file_from_its_size() {
    let fx = fixture(2, 1, 87);
    let src = tempfile::tempdir().unwrap();
    fx.write(src.path(), GZ);
    let big = src.path().join(MnistFile::TrainImages.remote_name());
    std::fs::File::create(&big)
        .unwrap()
        .set_len(30 << 30)
        .unwrap();
    let dst = tempfile::tempdir().unwrap();
    let o = ImportOptions {
        checksums: fx.checksums.clone(),
        force: false,
    };
    let err = import_with(src.path(), dst.path(), &o).unwrap_err();
    assert!(
        err.to_string().ends_with(&format!(
            "{} is {} bytes, more than the {} any copy of train-images-idx3-ubyte can have",
            big.display(),
            30u64 << 30,
            fx.checksums.max_file_len(MnistFile::TrainImages)
        )),
        "{err}"
    );
    assert!(listing(dst.path()).is_empty(), "{:?}", listing(dst.path()));
}

// ---- tar members bounded, clean messages -------------------------------------------------

#[test]
fn a_huge_tar_member_is_refused_before_it_reaches_the_disk() {
    let fx = fixture(2, 1, 82);
    let work = tempfile::tempdir().unwrap();
    // A tar.gz whose member claims 3 GB: only its header exists, as a bomb's would.
    let mut header = tar::Header::new_gnu();
    header
        .set_path(MnistFile::TrainImages.remote_name())
        .unwrap();
    header.set_size(3 << 30);
    header.set_mode(0o644);
    header.set_cksum();
    let mut tar_bytes = header.as_bytes().to_vec();
    tar_bytes.extend_from_slice(&[0u8; 1024]);
    let archive = work.path().join("mnist.tar.gz");
    std::fs::write(&archive, idx::gzip(&tar_bytes)).unwrap();
    let dst = work.path().join("d");
    let o = ImportOptions {
        checksums: fx.checksums.clone(),
        force: false,
    };
    let err = import_with(&archive, &dst, &o).unwrap_err();
    let cap = fx.checksums.max_file_len(MnistFile::TrainImages);
    assert_eq!(
        err.to_string(),
        format!(
            "cannot import MNIST from {a}: {a}:train-images-idx3-ubyte.gz is {} bytes, more than the {cap} any copy of train-images-idx3-ubyte can have",
            3u64 << 30,
            a = archive.display()
        )
    );
    assert!(listing(&dst).is_empty(), "{:?}", listing(&dst));
}

#[test]
fn not_a_tar_archive_is_said_in_words() {
    let work = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        (
            "garbage.tar",
            (0..2048u32).map(|i| (i * 7 + 3) as u8).collect::<Vec<u8>>(),
        ),
        ("garbage.tar.gz", idx::gzip(&[0xfe; 2048])),
    ] {
        let p = work.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let err = import_with(&p, work.path().join("d"), &ImportOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.chars().all(|c| !c.is_control()) && msg.is_ascii(),
            "binary garbage in: {msg:?}"
        );
        assert!(msg.contains("not a tar"), "{msg}");
    }
}

// ---- interrupts, killed fetches, two at once ---------------------------------------------

#[test]
fn raising_the_cancel_flag_stops_a_download_promptly_and_leaves_nothing() {
    let fx = fixture(2, 1, 83);
    let mut routes = good_routes(&fx);
    routes.insert(
        MnistFile::TrainImages.remote_name(),
        Reply::Drip {
            body: fx.bytes(MnistFile::TrainImages, true),
            every: Duration::from_millis(20),
        },
    );
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let o = FetchOptions {
        cancel: Some(cancel.clone()),
        deadline: Duration::from_secs(30),
        ..opts(&server, &fx)
    };
    let raiser = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.store(true, Ordering::SeqCst);
            Instant::now()
        })
    };
    let err = fetch(dir.path(), &o).unwrap_err();
    let raised = raiser.join().unwrap();
    assert!(matches!(err, MnistError::Interrupted), "{err}");
    assert!(
        raised.elapsed() < Duration::from_secs(1),
        "{:?}",
        raised.elapsed()
    );
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn stray_part_files_of_a_killed_fetch_are_removed_and_nothing_else() {
    let fx = fixture(2, 1, 84);
    let server = Server::start(good_routes(&fx));
    let dir = tempfile::tempdir().unwrap();
    let stray = dir
        .path()
        .join(".train-images-idx3-ubyte.scratchnet-tmp-Ab12Cd.part");
    std::fs::write(&stray, b"half a download").unwrap();
    let mine = dir.path().join("notes.part");
    std::fs::write(&mine, b"the user's").unwrap();
    let report = fetch(dir.path(), &opts(&server, &fx)).unwrap();
    assert_eq!(report.removed_temps, std::slice::from_ref(&stray));
    assert!(!stray.exists());
    assert_eq!(std::fs::read(&mine).unwrap(), b"the user's");
    assert!(report.to_string().starts_with(&format!(
        "removed {}, left by an interrupted fetch",
        stray.display()
    )));
}

#[test]
fn two_fetches_into_one_folder_never_break_each_other() {
    let fx = fixture(2, 1, 85);
    let mut routes = good_routes(&fx);
    routes.insert(
        MnistFile::TestLabels.remote_name(),
        Reply::Drip {
            body: fx.bytes(MnistFile::TestLabels, true),
            every: Duration::from_millis(5),
        },
    );
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let o = opts(&server, &fx);
    let first = {
        let (p, o) = (dir.path().to_owned(), o.clone());
        std::thread::spawn(move || fetch(p, &o))
    };
    // Wait until the first holds the lock, then try a second fetch into the same folder.
    let lock = dir.path().join(".scratchnet-mnist.lock");
    let t = Instant::now();
    while !lock.exists() && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = fetch(dir.path(), &o).unwrap_err();
    assert!(matches!(err, MnistError::Busy { .. }), "{err}");
    let report = first.join().unwrap().unwrap();
    assert_eq!(report.copied(), 4);
    assert_eq!(fetch(dir.path(), &o).unwrap().copied(), 0);
}

#[test]
fn no_lock_file_left_behind_blocks_hangs_or_exhausts_a_fetch() {
    let fx = fixture(2, 1, 86);
    let server = Server::start(good_routes(&fx));
    // Whatever a dead process or a user left in the lock file's place: a stale PID, garbage,
    // nothing. The lock is the OS's, so none of these can keep the folder busy.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    for contents in [
        format!("pid {dead}\n"),
        "pid 1\n".into(),
        String::new(),
        "\u{1b}[2J".into(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join(".scratchnet-mnist.lock");
        std::fs::write(&lock, &contents).unwrap();
        assert_eq!(fetch(dir.path(), &opts(&server, &fx)).unwrap().copied(), 4);
        assert_eq!(
            std::fs::read_to_string(&lock).unwrap(),
            contents,
            "never rewritten"
        );
    }
    // A FIFO (would hang a reader), a link to /dev/zero (would never end) or a directory in its
    // place is refused at once, with the path named.
    for make in ["fifo", "zero", "dir"] {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join(".scratchnet-mnist.lock");
        match make {
            "fifo" => assert!(
                std::process::Command::new("mkfifo")
                    .arg(&lock)
                    .status()
                    .unwrap()
                    .success()
            ),
            "zero" => std::os::unix::fs::symlink("/dev/zero", &lock).unwrap(),
            _ => std::fs::create_dir(&lock).unwrap(),
        }
        let err = fetch(dir.path(), &opts(&server, &fx)).unwrap_err();
        assert!(
            err.to_string().contains(".scratchnet-mnist.lock is a"),
            "{make}: {err}"
        );
    }
}

#[test]
fn the_cache_is_never_written_through_a_link_nor_over_a_file_it_did_not_write() {
    let fx = fixture(3, 2, 87);
    let dir = tempfile::tempdir().unwrap();
    fx.write(dir.path(), GZ);
    let cache = dir.path().join(CACHE_FILE);
    // the user's file, reached through a link named like the cache
    let theirs = dir.path().join("thesis.txt");
    std::fs::write(&theirs, b"my thesis").unwrap();
    std::os::unix::fs::symlink(&theirs, &cache).unwrap();
    let (raw, how) = load_raw_report(dir.path()).unwrap();
    assert_eq!(raw.train.len(), 3);
    let CacheUse::Rebuilt { write_error, .. } = how else {
        panic!("{how:?}")
    };
    let err = write_error.expect("the write is refused");
    assert!(
        err.contains("is a symbolic link, not a cache this tool wrote"),
        "{err}"
    );
    assert_eq!(std::fs::read(&theirs).unwrap(), b"my thesis");
    assert!(
        std::fs::symlink_metadata(&cache)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // a regular file there that is not a cache: kept byte for byte
    std::fs::remove_file(&cache).unwrap();
    std::fs::write(&cache, b"not a cache at all").unwrap();
    let (_, how) = load_raw_report(dir.path()).unwrap();
    let CacheUse::Rebuilt { write_error, .. } = how else {
        panic!("{how:?}")
    };
    assert!(
        write_error
            .unwrap()
            .contains("without the MNIST cache's header")
    );
    assert_eq!(std::fs::read(&cache).unwrap(), b"not a cache at all");
    // its own cache, stale, is replaced as before
    std::fs::remove_file(&cache).unwrap();
    let (_, how) = load_raw_report(dir.path()).unwrap();
    assert!(
        matches!(
            how,
            CacheUse::Rebuilt {
                write_error: None,
                ..
            }
        ),
        "{how:?}"
    );
    let (_, how) = load_raw_report(dir.path()).unwrap();
    assert!(matches!(how, CacheUse::Hit), "{how:?}");
}
