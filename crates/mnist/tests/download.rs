//! The download path against HTTP servers on 127.0.0.1 started by each test. Generated data
//! with injected checksums for the failure modes; one test with the real files.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::http::{Reply, Server};
use common::{Fixture, fixture, listing};
use scratchnet_mnist::download::{FetchOptions, fetch, file_url};
use scratchnet_mnist::{MnistError, MnistFile, Source, idx, load_raw, missing_files};

/// Routes serving `fx` gzip-compressed under the mirror names, below `prefix`.
fn good_routes(fx: &Fixture, prefix: &str) -> HashMap<String, Reply> {
    MnistFile::ALL
        .into_iter()
        .map(|f| {
            (
                format!("{prefix}{}", f.remote_name()),
                Reply::Body(fx.bytes(f, true)),
            )
        })
        .collect()
}

fn opts(mirrors: Vec<String>, fx: &Fixture) -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_millis(500),
        checksums: fx.checksums.clone(),
        ..FetchOptions::only(mirrors)
    }
}

fn assert_loads(dir: &std::path::Path, fx: &Fixture) {
    let raw = load_raw(dir).unwrap();
    assert_eq!(raw.train.images.as_slice().unwrap(), &fx.train_pixels[..]);
    assert_eq!(raw.test.labels.to_vec(), fx.test_labels);
}

#[test]
fn falls_back_from_404_to_a_working_mirror() {
    let fx = fixture(6, 3, 1);
    let bad = Server::start(HashMap::new());
    let good = Server::start(good_routes(&fx, "m/"));
    let dir = tempfile::tempdir().unwrap();
    let report = fetch(
        dir.path(),
        &opts(vec![bad.base.clone(), format!("{}m", good.base)], &fx),
    )
    .unwrap();
    assert_eq!(report.files.len(), 4);
    for r in &report.files {
        assert_eq!(
            r.source,
            Source::Url(file_url(&format!("{}m", good.base), r.file))
        );
        assert_eq!(r.failed.len(), 1);
        assert_eq!(r.failed[0].url, file_url(&bad.base, r.file));
        assert_eq!(r.failed[0].cause, "HTTP 404");
        assert!(r.path.ends_with(r.file.remote_name()));
        assert!(r.digest.gzip);
    }
    assert_eq!(bad.hits().len(), 4);
    assert_loads(dir.path(), &fx);
}

#[test]
fn corrupted_body_is_rejected_and_the_next_mirror_used() {
    let fx = fixture(6, 3, 2);
    let other = fixture(6, 3, 3); // valid gzip and IDX, wrong content
    let evil = Server::start(good_routes(&other, ""));
    let good = Server::start(good_routes(&fx, ""));
    let dir = tempfile::tempdir().unwrap();
    let report = fetch(
        dir.path(),
        &opts(vec![evil.base.clone(), good.base.clone()], &fx),
    )
    .unwrap();
    for r in &report.files {
        assert_eq!(r.source, Source::Url(file_url(&good.base, r.file)));
        assert!(
            r.failed[0].cause.starts_with("checksum mismatch"),
            "{}",
            r.failed[0].cause
        );
    }
    assert_loads(dir.path(), &fx);
}

#[test]
fn damaged_gzip_is_rejected() {
    let fx = fixture(4, 2, 4);
    let mut routes = good_routes(&fx, "");
    let mut gz = fx.bytes(MnistFile::TrainImages, true);
    let mid = gz.len() / 2;
    gz[mid] ^= 0x55;
    routes.insert(MnistFile::TrainImages.remote_name(), Reply::Body(gz));
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &opts(vec![server.base.clone()], &fx)).unwrap_err();
    let MnistError::AllMirrorsFailed { file, attempts } = &err else {
        panic!("{err}")
    };
    assert_eq!(file, "train-images-idx3-ubyte.gz");
    assert_eq!(attempts.len(), 1);
    assert!(
        attempts[0].cause.contains("corrupt gzip")
            || attempts[0].cause.contains("checksum mismatch"),
        "{}",
        attempts[0].cause
    );
    assert_eq!(
        listing(dir.path()),
        Vec::<String>::new(),
        "nothing left behind"
    );
}

#[test]
fn truncated_body_is_rejected() {
    let fx = fixture(6, 3, 5);
    let mut short = good_routes(&fx, "");
    for (_, reply) in short.iter_mut() {
        let Reply::Body(b) = reply.clone() else {
            unreachable!()
        };
        *reply = Reply::Truncated {
            claimed: b.len() + 1000,
            body: b[..b.len() / 2].to_vec(),
        };
    }
    let cut = Server::start(short);
    let good = Server::start(good_routes(&fx, ""));
    let dir = tempfile::tempdir().unwrap();
    let report = fetch(
        dir.path(),
        &opts(vec![cut.base.clone(), good.base.clone()], &fx),
    )
    .unwrap();
    for r in &report.files {
        let cause = &r.failed[0].cause;
        assert!(
            cause.contains("broke off") || cause.contains("truncated"),
            "{cause}"
        );
        assert!(
            cause.contains(&format!("of {}", fx.bytes(r.file, true).len() + 1000)),
            "{cause}"
        );
    }
    assert_loads(dir.path(), &fx);
}

#[test]
fn stalled_server_times_out() {
    let fx = fixture(4, 2, 6);
    let stalled: HashMap<String, Reply> = MnistFile::ALL
        .into_iter()
        .map(|f| (f.remote_name(), Reply::Stall))
        .collect();
    let stall = Server::start(stalled);
    let good = Server::start(good_routes(&fx, ""));
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(vec![stall.base.clone(), good.base.clone()], &fx);
    o.timeout = Duration::from_millis(200);
    let report = fetch(dir.path(), &o).unwrap();
    for r in &report.files {
        assert!(
            r.failed[0].cause.contains("timed out"),
            "{}",
            r.failed[0].cause
        );
        assert_eq!(r.source, Source::Url(file_url(&good.base, r.file)));
    }
    assert_loads(dir.path(), &fx);
}

#[test]
fn server_stalling_mid_body_times_out() {
    let fx = fixture(4, 2, 7);
    let routes: HashMap<String, Reply> = MnistFile::ALL
        .into_iter()
        .map(|f| {
            let b = fx.bytes(f, true);
            (
                f.remote_name(),
                Reply::StallMidBody {
                    prefix: b[..b.len() / 2].to_vec(),
                    claimed: b.len(),
                },
            )
        })
        .collect();
    let stall = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(vec![stall.base.clone()], &fx);
    o.timeout = Duration::from_millis(200);
    let err = fetch(dir.path(), &o).unwrap_err();
    let MnistError::AllMirrorsFailed { attempts, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        attempts[0].cause.contains("broke off") && attempts[0].cause.contains("timed out"),
        "{err}"
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new(), "no partial file");
}

#[test]
fn second_run_fetches_nothing_and_force_fetches_again() {
    let fx = fixture(5, 2, 8);
    let server = Server::start(good_routes(&fx, ""));
    let dir = tempfile::tempdir().unwrap();
    let o = opts(vec![server.base.clone()], &fx);
    assert_eq!(fetch(dir.path(), &o).unwrap().copied(), 4);
    assert_eq!(server.hits().len(), 4);
    let again = fetch(dir.path(), &o).unwrap();
    assert_eq!(again.copied(), 0);
    assert!(
        again
            .files
            .iter()
            .all(|r| r.source == Source::AlreadyPresent)
    );
    assert_eq!(server.hits().len(), 4, "no request on the second run");
    let forced = fetch(dir.path(), &FetchOptions { force: true, ..o }).unwrap();
    assert_eq!(forced.copied(), 4);
    assert_eq!(server.hits().len(), 8);
}

#[test]
fn all_mirrors_failing_lists_every_attempt_and_leaves_nothing() {
    let fx = fixture(4, 2, 9);
    let a = Server::start(HashMap::new());
    let b = Server::start(
        MnistFile::ALL
            .into_iter()
            .map(|f| (f.remote_name(), Reply::Status(500)))
            .collect(),
    );
    let dir = tempfile::tempdir().unwrap();
    let unreachable = "http://127.0.0.1:9/".to_string(); // discard port: connection refused
    let err = fetch(
        dir.path(),
        &opts(
            vec![a.base.clone(), b.base.clone(), unreachable.clone()],
            &fx,
        ),
    )
    .unwrap_err();
    let msg = err.to_string();
    let MnistError::AllMirrorsFailed { file, attempts } = err else {
        panic!("{msg}")
    };
    assert_eq!(file, "train-images-idx3-ubyte.gz");
    let urls: Vec<&str> = attempts.iter().map(|a| a.url.as_str()).collect();
    let want = [&a.base, &b.base, &unreachable].map(|m| file_url(m, MnistFile::TrainImages));
    assert_eq!(urls, want.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(attempts[0].cause, "HTTP 404");
    assert_eq!(attempts[1].cause, "HTTP 500");
    assert!(msg.starts_with(
        "could not fetch train-images-idx3-ubyte.gz: every source failed: [1] http://127.0.0.1:"
    ));
    assert!(
        msg.contains("[3] http://127.0.0.1:9/train-images-idx3-ubyte.gz: "),
        "{msg}"
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new());
    assert_eq!(missing_files(dir.path()).len(), 4);
}

#[test]
fn no_mirror_at_all_is_an_error_not_a_panic() {
    let fx = fixture(1, 1, 10);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &opts(vec![], &fx)).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("every source failed: no mirror to try"),
        "{err}"
    );
}

#[test]
fn a_wrong_file_already_present_is_reported_and_left_alone() {
    // Fashion-MNIST, or any file of the user's, under an MNIST name: never deleted.
    let fx = fixture(4, 2, 11);
    let server = Server::start(good_routes(&fx, ""));
    let dir = tempfile::tempdir().unwrap();
    let style = common::Style {
        gzip: false,
        dotted: true,
    };
    let theirs = fixture(4, 2, 12);
    theirs.write(dir.path(), style);
    let before = listing(dir.path());
    let err = fetch(dir.path(), &opts(vec![server.base.clone()], &fx)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, MnistError::Unverified { .. }), "{msg}");
    let first = dir
        .path()
        .join(Fixture::name(MnistFile::TrainImages, style));
    assert!(
        msg.starts_with(&format!(
            "{} is not the expected MNIST file (SHA-256 of the decompressed bytes is {}, expected {})",
            first.display(),
            scratchnet_mnist::checksum::sha256_hex(&theirs.bytes(MnistFile::TrainImages, false)),
            fx.checksums.get(MnistFile::TrainImages)
        )),
        "{msg}"
    );
    assert!(msg.contains("--force"), "{msg}");
    assert_eq!(listing(dir.path()), before, "nothing removed or added");
    for f in MnistFile::ALL {
        let p = dir.path().join(Fixture::name(f, style));
        assert_eq!(std::fs::read(&p).unwrap(), theirs.bytes(f, false));
    }
    assert!(
        server.hits().is_empty(),
        "nothing downloaded before the check"
    );
}

#[test]
fn force_replaces_a_wrong_file_and_keeps_it_aside() {
    let fx = fixture(4, 2, 11);
    let server = Server::start(good_routes(&fx, ""));
    let dir = tempfile::tempdir().unwrap();
    let style = common::Style {
        gzip: true,
        dotted: false,
    };
    let theirs = fixture(4, 2, 12);
    theirs.write(dir.path(), style);
    let o = FetchOptions {
        force: true,
        ..opts(vec![server.base.clone()], &fx)
    };
    let report = fetch(dir.path(), &o).unwrap();
    for r in &report.files {
        assert!(r.replaced.as_deref().unwrap().contains("SHA-256"), "{r}");
        assert_eq!(r.moved_aside.len(), 1, "{r}");
        let aside = &r.moved_aside[0];
        let name = aside.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!("{}.bad-", r.file.remote_name())),
            "{name}"
        );
        assert_eq!(std::fs::read(aside).unwrap(), theirs.bytes(r.file, true));
        assert!(
            r.to_string().contains("the previous file is kept as"),
            "{r}"
        );
    }
    assert_eq!(
        listing(dir.path()).len(),
        8,
        "four verified, four kept aside"
    );
    assert_loads(dir.path(), &fx);
}

#[test]
fn a_failed_download_leaves_the_wrong_file_where_it_was_even_with_force() {
    let fx = fixture(3, 2, 14);
    let dead = Server::start(HashMap::new());
    let dir = tempfile::tempdir().unwrap();
    let style = common::Style {
        gzip: true,
        dotted: false,
    };
    fixture(3, 2, 15).write(dir.path(), style);
    let before: Vec<Vec<u8>> = MnistFile::ALL
        .iter()
        .map(|f| std::fs::read(dir.path().join(f.remote_name())).unwrap())
        .collect();
    let o = FetchOptions {
        force: true,
        ..opts(vec![dead.base.clone()], &fx)
    };
    let err = fetch(dir.path(), &o).unwrap_err();
    assert!(matches!(err, MnistError::AllMirrorsFailed { .. }), "{err}");
    for (f, b) in MnistFile::ALL.iter().zip(&before) {
        assert_eq!(&std::fs::read(dir.path().join(f.remote_name())).unwrap(), b);
    }
    assert_eq!(listing(dir.path()).len(), 4);
}

#[test]
fn raw_idx_on_a_mirror_is_accepted_by_content() {
    // Verification is on decompressed bytes, so an uncompressed copy under the .gz name passes
    // and is stored under the raw name.
    let fx = fixture(3, 2, 13);
    let routes = MnistFile::ALL
        .into_iter()
        .map(|f| (f.remote_name(), Reply::Body(fx.bytes(f, false))))
        .collect();
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let report = fetch(dir.path(), &opts(vec![server.base.clone()], &fx)).unwrap();
    assert!(
        report
            .files
            .iter()
            .all(|r| !r.digest.gzip && r.path.ends_with(r.file.stem()))
    );
    assert_loads(dir.path(), &fx);
}

#[test]
fn fixture_checksums_differ_from_mnist() {
    // Guards the tests above: they must exercise injected checksums, not the real ones.
    let fx = fixture(1, 1, 0);
    for f in MnistFile::ALL {
        assert_ne!(fx.checksums.get(f), f.sha256());
        assert_eq!(
            fx.checksums.get(f),
            scratchnet_mnist::checksum::sha256_hex(&fx.bytes(f, false))
        );
        assert_eq!(idx::gzip(&fx.bytes(f, false))[..2], [0x1f, 0x8b]);
    }
}
