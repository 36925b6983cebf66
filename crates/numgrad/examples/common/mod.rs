//! What the numgrad examples share: the output folder and the figures of `scratchnet-plot`.

use std::error::Error;
use std::path::{Path, PathBuf};

// each example includes this module on its own and uses a part of it
#[allow(unused_imports)]
pub use scratchnet_plot::{Area, DrawResult, Scale, chart};

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Runs the example and turns an error into a message and exit code 1 (never a panic).
pub fn main(run: impl FnOnce(&Path) -> Result<()>) {
    let result = figure_dir().and_then(|dir| run(&dir));
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The folder given as the first command-line argument, or `target/figures`; created if missing.
fn figure_dir() -> Result<PathBuf> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/figures"), PathBuf::from);
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create figure folder {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Draws a `size` PNG at `dir/name` (anti-aliased, written atomically) and prints its path.
pub fn save_png(
    dir: &Path,
    name: &str,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area<'_>, Scale) -> DrawResult,
) -> Result<PathBuf> {
    let path = dir.join(name);
    scratchnet_plot::Figure::new(width, height).save(&path, |root, s| {
        root.fill(&plotters::style::WHITE)?;
        draw(root, s)
    })?;
    println!("wrote {}", path.display());
    Ok(path)
}
