//! Figures are anti-aliased, sized as asked, and never replace what is not a regular file.

use plotters::prelude::*;
use scratchnet_plot::{Figure, PlotError};

fn decode(png: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .unwrap()
        .to_rgb8()
}

#[test]
fn a_thin_diagonal_line_has_intermediate_shades() {
    let png = Figure::new(60, 60)
        .render(|root, s| {
            root.fill(&WHITE)?;
            root.draw(&PathElement::new(
                vec![(0, 0), (s.i(60), s.i(47))],
                BLACK.stroke_width(s.px(1)),
            ))?;
            Ok(())
        })
        .unwrap();
    let img = decode(&png);
    assert_eq!(img.dimensions(), (60, 60));
    let greys = img.pixels().filter(|p| p[0] > 10 && p[0] < 245).count();
    // a stair-stepped (aliased) line has only black and white pixels
    assert!(
        greys > 30,
        "only {greys} intermediate pixels: not anti-aliased"
    );
}

#[test]
fn a_directory_or_device_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let err = Figure::new(10, 10)
        .save(dir.path(), |_, _| Ok(()))
        .unwrap_err();
    assert!(matches!(err, PlotError::File(_)), "{err}");
    let err = Figure::new(10, 10)
        .save("/dev/null", |_, _| Ok(()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "/dev/null is a character device, not a regular file"
    );
}

#[test]
fn a_drawing_error_names_the_figure_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.png");
    let err = Figure::new(10, 10)
        .save(&p, |_, _| Err("no data".into()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot draw {}: no data", p.display())
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
