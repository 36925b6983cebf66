//! What the numgrad examples share: the output folder, the embedded font and an atomic PNG save.

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Font family for every text in the figures; the embedded DejaVu Sans is registered under this
/// name, so no system font is needed.
pub const FONT: &str = "sans-serif";

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
    plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the embedded DejaVu font did not load")?;
    Ok(dir)
}

/// Draws a `size` PNG at `dir/name` through a temporary file in the same folder, renamed into place
/// only once complete, and prints the path written.
pub fn save_png(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<PathBuf> {
    let path = dir.join(name);
    // The encoder picks the format from the extension, so the temporary name must end in .png.
    let tmp = dir.join(format!(".{name}.partial.png"));
    {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    }
    std::fs::rename(&tmp, &path)
        .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), path.display()))?;
    println!("wrote {}", path.display());
    Ok(path)
}

/// A chart on `root` with a title, labelled axes and a light grid, in the shared style.
pub fn chart<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<
    ChartContext<
        'a,
        BitMapBackend<'b>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 28))
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(65)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FONT, 22))
        .label_style((FONT, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    Ok(chart)
}
