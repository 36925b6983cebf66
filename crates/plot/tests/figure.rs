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

#[test]
fn smooth_curve_is_the_books_kaiser_average() {
    // np.kaiser(11, 2) from its definition, then the weighted average at an interior point
    let x: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64).collect();
    let s = scratchnet_plot::smooth_curve(&x);
    let i0 = |v: f64| {
        (0..40)
            .fold((1.0f64, 1.0f64), |(t, s), k| {
                let t = if k == 0 {
                    1.0
                } else {
                    t * (v * v / 4.0) / (k * k) as f64
                };
                (t, if k == 0 { 1.0 } else { s + t })
            })
            .1
    };
    let w: Vec<f64> = (0..11)
        .map(|k| i0(2.0 * (1.0 - ((k as f64) / 5.0 - 1.0).powi(2)).sqrt()) / i0(2.0))
        .collect();
    let want: f64 = (0..11).map(|k| w[k] * x[20 - 5 + k]).sum::<f64>() / w.iter().sum::<f64>();
    assert!((s[20] - want).abs() < 1e-12, "{} vs {want}", s[20]);
    // a linear ramp stays linear inside (the window is symmetric)
    let ramp: Vec<f64> = (0..30).map(f64::from).collect();
    assert!((scratchnet_plot::smooth_curve(&ramp)[15] - 15.0).abs() < 1e-12);
}

#[test]
fn smooth_curve_mirrors_the_ends_as_the_book_pads_them() {
    // the book pads x[10..1] before and x[n-1..n-10] after
    let x: Vec<f64> = (0..15).map(|i| (i * i) as f64).collect();
    let n = x.len();
    let mut s = Vec::new();
    s.extend((1..=10).rev().map(|i| x[i]));
    s.extend(&x);
    s.extend((0..10).map(|r| x[n - 1 - r]));
    let i0 = |v: f64| {
        (1..40)
            .fold((1.0f64, 1.0f64), |(t, s), k| {
                let t = t * (v * v / 4.0) / (k * k) as f64;
                (t, s + t)
            })
            .1
    };
    let w: Vec<f64> = (0..11)
        .map(|k| i0(2.0 * (1.0 - ((k as f64) / 5.0 - 1.0).powi(2)).sqrt()) / i0(2.0))
        .collect();
    let total: f64 = w.iter().sum();
    let got = scratchnet_plot::smooth_curve(&x);
    for i in [0, 1, n - 2, n - 1] {
        let want: f64 = (0..11).map(|k| w[k] * s[i + 5 + k]).sum::<f64>() / total;
        assert!((got[i] - want).abs() < 1e-9, "{i}: {} vs {want}", got[i]);
    }
}

/// Runs `f` on a thread and fails if it has not returned within `secs` (a hang, not a panic).
fn returns_within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .expect("did not return: the axis tick loop hangs")
}

#[test]
fn a_series_with_huge_and_non_finite_values_is_drawn_and_returns() {
    // A loss of f64::MAX (what --weight-decay 8.75e307 produces), ∞ and NaN among normal values;
    // the range a caller builds from them with 5 % headroom overflows to ∞.
    let losses = [2.3, 1.9, f64::MAX, f64::INFINITY, f64::NAN, 0.4];
    let png = returns_within(60, move || {
        Figure::new(200, 150)
            .render(|root, s| {
                root.fill(&WHITE)?;
                let y = scratchnet_plot::axis_range(losses);
                assert!(y.start.is_finite() && y.end.is_finite() && (y.end - y.start).is_finite());
                assert_eq!(y, 0.4..scratchnet_plot::AXIS_LIMIT);
                // the naive range (max × 1.05 = ∞) straight into chart(): clamped there too
                let naive = 0.0..f64::MAX * 1.05;
                let mut c = scratchnet_plot::chart(
                    root,
                    s,
                    "loss",
                    ("iteration", "loss"),
                    0.0..5.0,
                    naive,
                )?;
                c.draw_series(scratchnet_plot::segments(
                    losses.iter().enumerate().map(|(i, &l)| (i as f64, l)),
                    BLUE.stroke_width(s.px(2)),
                ))?;
                Ok(())
            })
            .unwrap()
    });
    assert_eq!(&png[1..4], b"PNG");
}
