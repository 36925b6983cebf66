//! The cache beside the data: written on the first load, read on the next, and rebuilt —
//! never trusted — when it is corrupt, truncated, stale or of another format.

mod common;

use std::fs;

use common::{Style, fixture};
use scratchnet_mnist::{
    CacheUse, MnistFile, cache_path, load_raw, load_raw_report, load_raw_uncached,
};

fn rebuilt_reason(c: &CacheUse) -> &str {
    match c {
        CacheUse::Rebuilt {
            reason,
            write_error: None,
        } => reason,
        other => panic!("expected a rebuilt and written cache, got {other:?}"),
    }
}

fn fresh() -> (tempfile::TempDir, common::Fixture) {
    let fx = fixture(9, 4, 31);
    let dir = tempfile::tempdir().unwrap();
    fx.write(
        dir.path(),
        Style {
            gzip: true,
            dotted: false,
        },
    );
    (dir, fx)
}

#[test]
fn first_load_writes_the_cache_and_the_second_reads_it() {
    let (dir, _) = fresh();
    let (a, first) = load_raw_report(dir.path()).unwrap();
    assert!(
        rebuilt_reason(&first).starts_with("cannot read"),
        "{first:?}"
    );
    assert!(cache_path(dir.path()).is_file());
    let (b, second) = load_raw_report(dir.path()).unwrap();
    assert_eq!(second, CacheUse::Hit);
    assert_eq!(a, b);
    assert_eq!(b, load_raw_uncached(dir.path()).unwrap());
}

#[test]
fn every_corrupted_byte_is_detected() {
    let (dir, _) = fresh();
    let want = load_raw(dir.path()).unwrap();
    let good = fs::read(cache_path(dir.path())).unwrap();
    // Every position of the header, and a stride through the payload.
    let positions: Vec<usize> = (0..400)
        .chain((400..good.len()).step_by(997))
        .chain([good.len() - 1])
        .collect();
    for i in positions {
        let mut bad = good.clone();
        bad[i] ^= 0x20;
        fs::write(cache_path(dir.path()), &bad).unwrap();
        let (got, how) = load_raw_report(dir.path()).unwrap();
        assert_eq!(got, want, "byte {i}");
        let CacheUse::Rebuilt { write_error, .. } = how else {
            panic!("byte {i} corrupted but cache used")
        };
        if i < 16 {
            // Without the magic it may be anybody's file: rebuilt in memory, never replaced.
            assert!(write_error.unwrap().contains("not a cache this tool wrote"));
            assert_eq!(fs::read(cache_path(dir.path())).unwrap(), bad, "byte {i}");
            fs::write(cache_path(dir.path()), &good).unwrap();
            continue;
        }
        assert_eq!(write_error, None, "byte {i}");
        assert_eq!(
            fs::read(cache_path(dir.path())).unwrap(),
            good,
            "byte {i}: rebuilt cache differs"
        );
    }
}

#[test]
fn truncated_cache_is_rebuilt() {
    let (dir, _) = fresh();
    let want = load_raw(dir.path()).unwrap();
    let good = fs::read(cache_path(dir.path())).unwrap();
    for len in [0, 10, 40, good.len() / 2, good.len() - 1] {
        fs::write(cache_path(dir.path()), &good[..len]).unwrap();
        let (got, how) = load_raw_report(dir.path()).unwrap();
        assert_eq!(got, want);
        let reason = rebuilt_reason(&how);
        let expected = if len < 16 {
            reason == "not a scratchnet MNIST cache" // not even the magic survived
        } else {
            reason.contains("truncated") || reason.contains("bad header")
        };
        assert!(expected, "{len}: {reason}");
    }
    let mut longer = good.clone();
    longer.push(0);
    fs::write(cache_path(dir.path()), &longer).unwrap();
    assert!(rebuilt_reason(&load_raw_report(dir.path()).unwrap().1).contains("truncated"));
}

#[test]
fn stale_cache_is_rebuilt_from_changed_sources() {
    let (dir, fx) = fresh();
    load_raw(dir.path()).unwrap();
    // Same size, different labels: only the checksum of the source can tell.
    let mut labels = fx.test_labels.clone();
    labels[0] = (labels[0] + 1) % 10;
    let p = dir.path().join(MnistFile::TestLabels.remote_name());
    let old_len = fs::metadata(&p).unwrap().len();
    fs::write(
        &p,
        scratchnet_mnist::idx::gzip(&scratchnet_mnist::idx::encode_labels(&labels)),
    )
    .unwrap();
    let (got, how) = load_raw_report(dir.path()).unwrap();
    assert!(
        rebuilt_reason(&how).starts_with("stale"),
        "{how:?} (old len {old_len})"
    );
    assert_eq!(got.test.labels.to_vec(), labels);
    assert_eq!(load_raw_report(dir.path()).unwrap().1, CacheUse::Hit);
}

#[test]
fn switching_to_raw_files_makes_the_cache_stale() {
    let (dir, fx) = fresh();
    load_raw(dir.path()).unwrap();
    for f in MnistFile::ALL {
        fs::remove_file(dir.path().join(f.remote_name())).unwrap();
    }
    fx.write(
        dir.path(),
        Style {
            gzip: false,
            dotted: true,
        },
    );
    let (_, how) = load_raw_report(dir.path()).unwrap();
    assert!(rebuilt_reason(&how).starts_with("stale"));
}

#[test]
fn other_versions_and_foreign_files_are_rebuilt() {
    let (dir, _) = fresh();
    load_raw(dir.path()).unwrap();
    let mut good = fs::read(cache_path(dir.path())).unwrap();
    good[16] = good[16].wrapping_add(1); // version, just after the 16-byte magic
    fs::write(cache_path(dir.path()), &good).unwrap();
    assert!(
        rebuilt_reason(&load_raw_report(dir.path()).unwrap().1).starts_with("format version 2")
    );
    // a pickle of the book's own cache: read around, never replaced
    let pickle = b"(dp0\nS'train_img'\np1\n";
    fs::write(cache_path(dir.path()), pickle).unwrap();
    let (raw, how) = load_raw_report(dir.path()).unwrap();
    assert_eq!(raw.train.len(), 9);
    let CacheUse::Rebuilt {
        reason,
        write_error: Some(why),
    } = how
    else {
        panic!("{how:?}")
    };
    assert!(reason.contains("not a scratchnet"), "{reason}");
    assert!(why.contains("not a cache this tool wrote"), "{why}");
    assert_eq!(fs::read(cache_path(dir.path())).unwrap(), pickle);
}

#[test]
fn an_unwritable_cache_does_not_stop_loading() {
    let (dir, _) = fresh();
    // A folder where the cache file should be: the rename fails, the data still load.
    fs::create_dir(cache_path(dir.path())).unwrap();
    let (raw, how) = load_raw_report(dir.path()).unwrap();
    assert_eq!(raw.train.len(), 9);
    assert!(
        matches!(
            how,
            CacheUse::Rebuilt {
                write_error: Some(_),
                ..
            }
        ),
        "{how:?}"
    );
    let leftovers: Vec<String> = common::listing(dir.path())
        .into_iter()
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn stale_cache_temps_of_a_killed_load_are_removed_and_young_ones_kept() {
    let (dir, _) = fresh();
    let old = dir.path().join(".mnist.bincode.scratchnet-tmp-Old123");
    let young = dir.path().join(".mnist.bincode.scratchnet-tmp-New456");
    let theirs = dir.path().join(".mnist.bincode.notes");
    for p in [&old, &young, &theirs] {
        fs::write(p, b"half a cache").unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for p in [&old, &theirs] {
        fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    load_raw_report(dir.path()).unwrap();
    assert!(!old.exists(), "an hour-old temp of ours is removed");
    assert!(
        young.exists(),
        "a young one may be another load's write in progress"
    );
    assert!(theirs.exists(), "a file that is not ours is never touched");
}
