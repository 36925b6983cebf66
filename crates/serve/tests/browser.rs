//! The page as a person uses it, in Debian's headless Chromium driven over the DevTools
//! protocol: a net trained here on real MNIST is served, real test digits are drawn on the
//! canvas with mouse events that trace their pixels, and the class the page shows must be the
//! digit's label. The page is then saved as a screenshot (its path is printed).
//!
//! Needs `/usr/bin/chromium` (CI's `.ci/run` installs it with apt-get when missing) and real
//! MNIST: `MNIST_DIR` (set by `cargo xtask test`), else `<workspace>/data/mnist`. Either missing
//! is a failure that says so, never a skip.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Input::{
    DispatchMouseEvent, DispatchMouseEventTypeOption, MouseButton,
};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use ndarray::Array2;
use scratchnet_network::optimizer::AnyOptimizer;
use scratchnet_network::{Batch, Gradient, Net, NetSpec, WeightInit};
use scratchnet_serve::{ServeArgs, Server};
use scratchnet_tensor::{Rng, SparseRows, rng_from_seed};
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The page's canvas is 280×280: ten of its pixels per MNIST pixel.
const SCALE: f64 = 10.0;

fn mnist_dir() -> PathBuf {
    let dir = scratchnet_mnist::default_dir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let missing = scratchnet_mnist::missing_files(&dir);
    assert!(
        missing.is_empty(),
        "real MNIST is missing in {} ({}): run `cargo xtask fetch-mnist` or `cargo xtask test`, or set MNIST_DIR",
        dir.display(),
        missing.join(", ")
    );
    dir
}

/// Trains the book's chapter 6 ReLU net `784-100-10` with Adam for 1200 iterations of 100
/// images (two epochs, a few seconds) and writes a run folder as the trainer does.
fn train(run: &Path, mnist: &scratchnet_mnist::RawMnist) -> Net<f32> {
    let x = SparseRows::from_dense(&mnist.train.images_as::<f32>(true));
    let t = mnist.train.labels_usize();
    let draw = |rng: &mut Rng, b: &mut Batch<f32>| {
        let idx = scratchnet_tensor::choice_with_replacement(rng, t.len(), 100);
        x.gather_rows_into(&idx, &mut b.x);
        b.t.clear();
        b.t.extend(idx.iter().map(|&k| t[k]));
    };
    let spec = "affine 100, relu, affine 10"
        .parse::<NetSpec>()
        .unwrap()
        .with_init(WeightInit::He);
    let mut rng = rng_from_seed(1);
    let mut net = Net::<f32>::new(spec, &mut rng).unwrap();
    let mut adam = AnyOptimizer::by_name("adam").unwrap();
    let losses: Vec<f64> = (0..1200)
        .map(|i| {
            net.step(&draw, Gradient::Backprop, &mut adam, &mut rng, i < 1199)
                .unwrap()
        })
        .collect();
    let test_acc = net.accuracy(
        &mnist.test.images_as::<f32>(true),
        &mnist.test.labels_usize(),
    );
    std::fs::create_dir_all(run).unwrap();
    net.save(run.join("model.bin")).unwrap();
    let loss: String = std::iter::once("iteration,loss\n".to_owned())
        .chain(
            losses
                .iter()
                .enumerate()
                .map(|(k, l)| format!("{},{l}\n", k + 1)),
        )
        .collect();
    std::fs::write(run.join("loss.csv"), loss).unwrap();
    std::fs::write(
        run.join("accuracy.csv"),
        format!(
            "epoch,iteration,train_acc,test_acc\n2,1200,{},{test_acc}\n",
            net.accuracy(&x, &t)
        ),
    )
    .unwrap();
    std::fs::write(
        run.join("summary.json"),
        // the fields `scratchnet train` writes that the page shows
        serde_json::json!({
            "describe": format!("backprop, f32, net {}, adam, batch 100, lr 0.001", net.spec()),
            "optimizer": {"kind": "adam", "lr": 0.001},
            "seed": 1,
            "dtype": "f32",
            "test_acc": test_acc,
        })
        .to_string(),
    )
    .unwrap();
    net
}

/// The value of the expression `js` in the page (through JSON: objects come back whole).
fn eval(tab: &Tab, js: &str) -> Value {
    let json = tab
        .evaluate(&format!("JSON.stringify({js})"), false)
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .value;
    match json {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap(),
        _ => Value::Null,
    }
}

/// Waits until `js` is true, at most `secs` seconds.
fn wait_for(tab: &Tab, js: &str, secs: u64) {
    let start = Instant::now();
    while eval(tab, js) != Value::Bool(true) {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "waited {secs} s for {js}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn mouse(tab: &Tab, kind: DispatchMouseEventTypeOption, x: f64, y: f64) {
    tab.call_method(DispatchMouseEvent {
        Type: kind,
        x,
        y,
        modifiers: None,
        timestamp: None,
        button: Some(MouseButton::Left),
        buttons: Some(1),
        click_count: Some(1),
        force: None,
        tangential_pressure: None,
        tilt_x: None,
        tilt_y: None,
        twist: None,
        delta_x: None,
        delta_y: None,
        pointer_Type: None,
    })
    .unwrap();
}

/// Draws the ink of a 28×28 image (pixels ≥ 128) on the pad at `(left, top)`: one stroke of the
/// mouse along each run of ink in each row, pressed, moved every 30 canvas pixels (the page
/// draws a line between two positions), released.
fn trace(tab: &Tab, image: ndarray::ArrayView1<'_, u8>, left: f64, top: f64) -> usize {
    use DispatchMouseEventTypeOption::{MouseMoved, MousePressed, MouseReleased};
    let mut strokes = 0;
    for r in 0..28 {
        let mut c = 0;
        while c < 28 {
            if image[r * 28 + c] < 128 {
                c += 1;
                continue;
            }
            let start = c;
            while c < 28 && image[r * 28 + c] >= 128 {
                c += 1;
            }
            let y = top + (r as f64 + 0.5) * SCALE;
            let (x0, x1) = (
                left + (start as f64 + 0.5) * SCALE,
                left + (c as f64 - 0.5) * SCALE,
            );
            mouse(tab, MouseMoved, x0, y);
            mouse(tab, MousePressed, x0, y);
            let mut x = x0;
            while x < x1 {
                x = (x + 30.0).min(x1);
                mouse(tab, MouseMoved, x, y);
            }
            mouse(tab, MouseReleased, x1, y);
            strokes += 1;
        }
    }
    strokes
}

#[test]
fn a_digit_drawn_with_the_mouse_is_read_by_the_page() {
    let started = Instant::now();
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; .ci/run does)"
    );
    let mnist = scratchnet_mnist::load_raw(mnist_dir()).unwrap();
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("runs").join("e2e");
    let net = train(&run, &mnist);
    let trained = started.elapsed();
    println!(
        "MNIST loaded and the net trained in {:.1} s",
        trained.as_secs_f64()
    );

    // the first three test digits the net reads right with probability > 0.95 as MNIST gives
    // them: what is checked is the page's path from mouse to class
    let xt: Array2<f32> = mnist.test.images_as::<f32>(true);
    let scores = net.predict(xt.slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..200)));
    let chosen: Vec<usize> = (0..200)
        .filter(|&i| {
            let row = scores.row(i);
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
            let label = usize::from(mnist.test.labels[i]);
            row[label] == max && 1.0 / sum > 0.95
        })
        .take(3)
        .collect();
    assert_eq!(chosen.len(), 3);

    let server = Server::start(
        &ServeArgs {
            run: Some(run),
            port: 0,
            data: Some(mnist_dir()),
            ..Default::default()
        },
        root.path(),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::new(
        LaunchOptions::default_builder()
            .path(Some(CHROMIUM.into()))
            .headless(true)
            .sandbox(false)
            .enable_gpu(false)
            .window_size(Some((1280, 2300)))
            .user_data_dir(Some(profile.path().to_owned()))
            .disable_default_args(true)
            .args(
                [
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ]
                .map(OsStr::new)
                .to_vec(),
            )
            .idle_browser_timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    )
    .unwrap();
    let tab = browser.new_tab().unwrap();
    println!(
        "chromium started at {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tab.navigate_to(&server.url())
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.wait_for_element("#pad").unwrap();
    wait_for(
        &tab,
        "document.getElementById('model-desc').textContent.includes('affine 100')",
        20,
    );
    let rect = eval(
        &tab,
        "(() => { const r = pad.getBoundingClientRect(); return [r.left, r.top, r.width]; })()",
    );
    let (left, top) = (rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
    assert_eq!(rect[2].as_f64(), Some(280.0));

    // the last one drawn stays on the page for the screenshot
    for (k, &i) in chosen.iter().rev().enumerate() {
        if k > 0 {
            tab.find_element("#clear").unwrap().click().unwrap();
            wait_for(
                &tab,
                "document.getElementById('prediction').dataset.class === ''",
                10,
            );
        }
        let t0 = Instant::now();
        let strokes = trace(&tab, mnist.test.images.row(i), left, top);
        let drawn = t0.elapsed();
        // every prediction asked for has come back
        wait_for(
            &tab,
            "(() => { const p = document.getElementById('prediction').dataset; \
             return p.issued === p.done && document.body.dataset.busy === '0' && p.class !== ''; })()",
            20,
        );
        let class = eval(&tab, "document.getElementById('prediction').dataset.class");
        let label = mnist.test.labels[i];
        println!(
            "test image {i} (label {label}): {strokes} strokes drawn in {:.1} s, the page reads {class} after {:.1} s",
            drawn.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
        assert_eq!(class, Value::String(label.to_string()), "test image {i}");
        // the inside view shows the first layer's tiles, most active first
        let tiles = eval(&tab, "document.querySelectorAll('#inside .tile').length");
        assert_eq!(tiles, 100);
    }

    // the test-set panel and the run panel
    wait_for(
        &tab,
        "document.getElementById('test-status').textContent.startsWith('Test accuracy')",
        60,
    );
    wait_for(
        &tab,
        "document.querySelectorAll('#confusion tr').length === 11",
        10,
    );
    wait_for(&tab, "document.body.dataset.busy === '0'", 20);
    assert!(
        eval(
            &tab,
            "document.querySelectorAll('#mistakes .mistake').length"
        )
        .as_u64()
            > Some(0)
    );
    assert!(
        eval(&tab, "document.getElementById('config').textContent")
            .as_str()
            .unwrap()
            .contains("adam")
    );

    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-e2e.png");
    std::fs::write(&shot, &png).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    // the window less the browser's frame
    assert!(
        img.width() == 1280 && img.height() > 2000,
        "{}×{}",
        img.width(),
        img.height()
    );
    println!("screenshot: {}", shot.display());
    println!(
        "trained in {:.1} s, whole test {:.1} s",
        trained.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    drop(tab);
    drop(browser);
    server.stop().unwrap();
}
