//! The README's chapter 5–6 program (`tests/examples/book_ch5_6.rs`) compiles as the README
//! shows it and trains on the real MNIST.

#[allow(dead_code)] // its `main`, which `cargo run --example book_ch5_6` calls
#[path = "../examples/book_ch5_6.rs"]
mod program;

#[test]
fn the_readme_shows_the_program_as_it_is() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let program = std::fs::read_to_string(root.join("tests/examples/book_ch5_6.rs")).unwrap();
    assert!(
        readme.contains(&format!("```rust\n{program}```")),
        "README.md must show tests/examples/book_ch5_6.rs verbatim in a ```rust block"
    );
}

#[test]
fn the_book_program_checks_its_gradient_trains_and_reads_its_model_back() {
    let dir = scratchnet_integration_tests::data_dir();
    // one epoch and a step: the book's loop as written, on the whole training set
    let report = program::run(&dir, 601).unwrap_or_else(|e| panic!("{e}"));
    // backprop against central differences (h = 1e-4) in f64: 1e-17 to 1.9e-7 here (the
    // O(h²) truncation of the difference, largest for b3), as the book's gradient_check
    // prints; a wrong layer misses by the gradient's own size (> 1e-3), far above 1e-5
    assert!(
        report.max_diff < 1e-5,
        "max mean |diff| {:e}",
        report.max_diff
    );
    // a 784-100-100-10 batch-norm net after one epoch of Adam reads well above 90 %
    assert!(report.test_acc > 0.93, "test acc {}", report.test_acc);
}

#[test]
fn a_missing_dataset_prints_the_way_to_fetch_it() {
    let empty = tempfile::tempdir().unwrap();
    let e = program::run(empty.path(), 1)
        .err()
        .expect("no data, no run");
    let shown = e.to_string();
    assert!(
        shown.contains("fetch-mnist") || shown.contains("download"),
        "{shown}"
    );
}
