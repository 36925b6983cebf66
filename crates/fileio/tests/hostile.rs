//! The promises of scratchnet-fileio against hostile paths and files.

use std::fs;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use scratchnet_fileio::frame::Format;
use scratchnet_fileio::{
    FileError, open_regular, read_limited, remove_stale_temps, resolve_output, write_atomic,
};

const F: Format = Format {
    magic: *b"TESTFRAM",
    version: 1,
    what: "test file",
};

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
    assert!(ok, "mkfifo {}", p.display());
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn special_targets_are_refused_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let sock = dir.path().join("sock");
    let _listener = UnixListener::bind(&sock).unwrap();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    for (p, kind) in [
        (fifo.as_path(), "FIFO"),
        (sock.as_path(), "socket"),
        (sub.as_path(), "directory"),
        (Path::new("/dev/null"), "character device"),
    ] {
        let err = write_atomic(p, b"data").unwrap_err();
        assert!(
            matches!(&err, FileError::NotRegular { kind: k, .. } if *k == kind),
            "{}: {err}",
            p.display()
        );
        assert_eq!(
            err.to_string(),
            format!("{} is a {kind}, not a regular file", p.display())
        );
    }
    let meta = fs::symlink_metadata(&fifo).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()));
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device_like()
    );
    // nothing was left behind
    assert_eq!(names_in(dir.path()), ["fifo", "sock", "sub"]);
}

trait CharDev {
    fn is_char_device_like(&self) -> bool;
}
impl CharDev for fs::FileType {
    fn is_char_device_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_char_device(self)
    }
}

#[test]
fn a_symlink_is_followed_and_the_link_stays() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.txt");
    fs::write(&real, b"old").unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    write_atomic(&link, b"new").unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&real).unwrap(), b"new");

    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let err = write_atomic(&dangling, b"x").unwrap_err();
    assert!(matches!(err, FileError::DanglingLink { .. }), "{err}");
    assert!(!dir.path().join("nowhere").exists());

    let to_dev = dir.path().join("to-dev");
    std::os::unix::fs::symlink("/dev/null", &to_dev).unwrap();
    assert!(matches!(
        resolve_output(&to_dev),
        Err(FileError::NotRegular { .. })
    ));
}

#[test]
fn a_failed_write_keeps_the_old_file_and_leaves_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.bin");
    fs::write(&p, b"precious").unwrap();
    let err = scratchnet_fileio::write_atomic_with(&p, |w| {
        use std::io::Write;
        w.write_all(b"half")?;
        Err(std::io::Error::other("disk full"))
    })
    .unwrap_err();
    assert!(err.to_string().contains("model.bin"), "{err}");
    assert!(!err.to_string().contains("scratchnet-tmp"), "{err}");
    assert_eq!(fs::read(&p).unwrap(), b"precious");
    assert_eq!(names_in(dir.path()), ["model.bin"]);
}

#[test]
fn a_replaced_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    fs::write(&p, b"a").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    write_atomic(&p, b"b").unwrap();
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn reads_refuse_special_files_without_blocking_and_stop_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("checkpoint.bin");
    mkfifo(&fifo);
    // a FIFO with no writer would block a plain open forever
    let err = open_regular(&fifo).unwrap_err();
    assert!(
        matches!(err, FileError::NotRegular { kind: "FIFO", .. }),
        "{err}"
    );
    let err = read_limited("/dev/zero", 1 << 20).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::NotRegular {
                kind: "character device",
                ..
            }
        ),
        "{err}"
    );
    let err = read_limited(dir.path(), 1 << 20).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::NotRegular {
                kind: "directory",
                ..
            }
        ) || matches!(err, FileError::Io { .. }),
        "{err}"
    );

    // a sparse file far larger than the limit is refused from its size, without reading it
    let sparse = dir.path().join("sparse");
    let f = fs::File::create(&sparse).unwrap();
    f.set_len(30 << 30).unwrap();
    let err = read_limited(&sparse, 1 << 20).unwrap_err();
    assert!(
        matches!(err, FileError::TooLarge { limit: 1048576, .. }),
        "{err}"
    );
}

#[test]
fn a_huge_length_in_a_checked_frame_is_an_error_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.bin");
    // a string whose length field claims 2^40 bytes, under a valid checksum
    let mut w = F.writer();
    w.push(&(1u64 << 40));
    w.push(&[0u8; 16]);
    w.write(&p).unwrap();
    let mut r = F.read(&p, 1 << 20).unwrap();
    let err = r.next::<String>("dtype").unwrap_err();
    assert!(matches!(err, FileError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("dtype"), "{err}");
    let mut r = F.read(&p, 1 << 20).unwrap();
    assert!(r.next::<Vec<f64>>("params").is_err());
}

#[test]
fn any_flipped_byte_or_truncation_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.bin");
    let mut w = F.writer();
    w.push(&"f64".to_string()).push(&vec![1.0f64, 2.0, 3.0]);
    let bytes = w.into_bytes();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        assert!(F.check(&p, bad).is_err(), "flipped byte {i} went unnoticed");
    }
    for n in 0..bytes.len() {
        assert!(
            F.check(&p, bytes[..n].to_vec()).is_err(),
            "truncated to {n}"
        );
    }
    let mut r = F.check(&p, bytes).unwrap();
    assert_eq!(r.next::<String>("dtype").unwrap(), "f64");
    assert!(r.next::<u8>("nothing").is_ok()); // the first byte of the vector's length
    assert!(r.finish().is_err());
}

#[test]
fn stale_temps_are_removed_only_when_old_and_only_ours() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join(".loss.csv.scratchnet-tmp-Ab12Cd");
    let user = dir.path().join(".tmp-mine");
    fs::write(&ours, b"half").unwrap();
    fs::write(&user, b"users").unwrap();
    assert!(
        remove_stale_temps(dir.path(), Duration::from_secs(3600))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        remove_stale_temps(dir.path(), Duration::ZERO).unwrap(),
        [ours]
    );
    assert!(user.exists());
}
