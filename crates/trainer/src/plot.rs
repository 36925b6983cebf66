//! The notebook's two figures: the training loss per iteration (§4.5.2) and the train/test
//! accuracy per epoch (§4.5.3), as PNG files drawn with plotters and the embedded DejaVu Sans
//! font (no system fonts needed).

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::{AccuracyRow, TrainError};

/// File name of the loss figure in a run folder.
pub const LOSS_PNG: &str = "loss.png";
/// File name of the accuracy figure in a run folder.
pub const ACCURACY_PNG: &str = "accuracy.png";

const SIZE: (u32, u32) = (1000, 640);
const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is a valid TTF"));
    });
}

/// Tick labels on integer axes: `600`, not `600.0`; nothing at fractional ticks.
fn whole(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// Draws into an RGB buffer in memory, encodes it as PNG and writes the file atomically with
/// [`scratchnet_fileio::write_atomic`]: a reader never sees a half-drawn image, and a `path`
/// that is a directory, device or FIFO is refused, never replaced.
fn draw_atomically(
    path: &Path,
    draw: impl FnOnce(BitMapBackend<'_>) -> Result<(), String>,
) -> Result<(), TrainError> {
    register_font();
    let plot_err = |what: String| TrainError::Plot {
        path: path.to_owned(),
        what,
    };
    // Refuse a bad target before drawing.
    scratchnet_fileio::resolve_output(path).map_err(TrainError::Output)?;
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    draw(BitMapBackend::with_buffer(&mut rgb, SIZE)).map_err(plot_err)?;
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| plot_err(e.to_string()))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| plot_err(e.to_string()))?;
    }
    scratchnet_fileio::write_atomic(path, &png_bytes).map_err(TrainError::Output)
}

/// Draws the loss of every iteration (`loss.csv`) as the notebook's `plt.plot(x, train_loss_list)`:
/// x is the iteration (from 1), y the batch loss; `subtitle` goes under the title.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("loss.png");
/// scratchnet_trainer::plot::draw_loss(&p, &[2.3, 1.0, 0.5], "backprop").unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn draw_loss(path: &Path, losses: &[f64], subtitle: &str) -> Result<(), TrainError> {
    draw_atomically(path, |backend| {
        let root = backend.into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = losses.len().max(2) as f64;
        let finite = losses.iter().copied().filter(|v| v.is_finite());
        let ymax = finite.fold(0.0f64, f64::max);
        let ymax = if ymax > 0.0 { ymax * 1.05 } else { 1.0 };
        let caption = format!("Training loss per iteration ({subtitle})");
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, (FONT, 28))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..n, 0f64..ymax)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .x_label_formatter(&|v| whole(*v))
            .y_desc("loss (cross-entropy of the mini-batch)")
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 22))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                losses.iter().enumerate().map(|(k, &l)| ((k + 1) as f64, l)),
                &BLUE,
            ))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })
}

/// Draws the accuracy on the full train and test sets per epoch, as the book's figure 4-12:
/// x is the epoch, y the accuracy from 0 to 1, a legend at the lower right.
///
/// ```
/// use scratchnet_trainer::AccuracyRow;
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("accuracy.png");
/// let rows = [AccuracyRow { epoch: 0, iteration: 1, train_acc: 0.1, test_acc: 0.11 },
///             AccuracyRow { epoch: 1, iteration: 601, train_acc: 0.8, test_acc: 0.79 }];
/// scratchnet_trainer::plot::draw_accuracy(&p, &rows, "backprop").unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn draw_accuracy(path: &Path, rows: &[AccuracyRow], subtitle: &str) -> Result<(), TrainError> {
    draw_atomically(path, |backend| {
        let root = backend.into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let last = rows.iter().map(|r| r.epoch).max().unwrap_or(0).max(1) as f64;
        let caption = format!("Accuracy per epoch ({subtitle})");
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, (FONT, 28))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.25f64..last + 0.25, 0f64..1.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("epochs")
            .x_labels((last as usize + 1).min(21))
            .x_label_formatter(&|v| whole(*v))
            .y_desc("accuracy")
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 22))
            .draw()
            .map_err(|e| e.to_string())?;
        let red = RGBColor(214, 39, 40);
        // The book's figure: train solid with circles, test dashed with triangles.
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|r| (r.epoch as f64, r.train_acc)),
                BLUE.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("train acc")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
        chart
            .draw_series(
                rows.iter()
                    .map(|r| Circle::new((r.epoch as f64, r.train_acc), 4, BLUE.filled())),
            )
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(DashedLineSeries::new(
                rows.iter().map(|r| (r.epoch as f64, r.test_acc)),
                8,
                5,
                red.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("test acc")
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (9, 0)], red.stroke_width(3))
                    + PathElement::new(vec![(15, 0), (24, 0)], red.stroke_width(3))
            });
        chart
            .draw_series(
                rows.iter()
                    .map(|r| TriangleMarker::new((r.epoch as f64, r.test_acc), 5, red.filled())),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 20))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })
}
