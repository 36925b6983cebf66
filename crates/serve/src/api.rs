//! The HTTP API and the page. Every answer is JSON; every error is `{"error": "..."}` with a
//! 4xx status for bad input. Inference runs on tokio's blocking pool, so a slow request never
//! holds up the others.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::{Loaded, TestData, TestEval, argmax, pixels, softmax};
use crate::preprocess::{grey_png, mnist_style};
use crate::runs;

/// Request bodies larger than this are refused (413): a 784-value JSON is about 10 KB, the
/// page's PNG of its canvas about 5 KB.
pub(crate) const MAX_BODY: usize = 2 << 20;
/// PNGs wider or taller than this are refused.
const MAX_SIDE: u32 = 2048;
/// Runs loaded on request are kept, at most this many (besides the one served at start).
const KEEP_RUNS: usize = 4;
/// The misclassified images listed, at most.
const MAX_MISTAKES: usize = 500;
/// Channels of an image-shaped activation sent, at most.
const MAX_CHANNELS: usize = 32;

/// What every handler shares.
pub(crate) struct App {
    pub default: Arc<Loaded>,
    pub runs_root: PathBuf,
    pub mnist_dir: PathBuf,
    pub data: TestData,
    pub others: Mutex<Vec<Arc<Loaded>>>,
}

/// An error answer.
pub(crate) struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError(status, msg.into())
}

type ApiResult = Result<Json<Value>, ApiError>;

#[derive(Deserialize)]
struct Which {
    /// A run folder's name under runs/ (default: the model served at start).
    run: Option<String>,
    /// Include every layer's output (`/api/predict`).
    inside: Option<bool>,
}

pub(crate) fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new()
        .route(
            "/",
            get(|| async { page("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { page("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { page("text/css; charset=utf-8", STYLE) }),
        )
        .route("/api/model", get(model))
        .route("/api/predict", post(predict))
        .route("/api/runs", get(list_runs))
        .route("/api/run", get(run))
        .route("/api/test", get(test))
        .route("/api/test/{index}", get(test_image))
        .merge(test_hooks())
        .fallback(|| async {
            bad(
                StatusCode::NOT_FOUND,
                "no such page or API (see /api/model)",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

/// `GET /api/test-hooks/panic` panics, with the `test-hooks` feature only.
fn test_hooks() -> axum::Router<Arc<App>> {
    let r = axum::Router::new();
    #[cfg(feature = "test-hooks")]
    let r = r.route(
        "/api/test-hooks/panic",
        get(|| async {
            panic!("a handler that panics, for the tests");
            #[allow(unreachable_code)]
            ()
        }),
    );
    r
}

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

fn page(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

impl App {
    /// The model of `run` (loaded and evaluated once, then kept), or the one served at start.
    async fn model(self: &Arc<Self>, run: Option<String>) -> Result<Arc<Loaded>, ApiError> {
        let Some(name) = run.filter(|n| *n != self.default.name) else {
            return Ok(self.default.clone());
        };
        if let Some(m) = self.kept(&name) {
            return Ok(m);
        }
        let dir = runs::resolve(&self.runs_root, &name).ok_or_else(|| {
            bad(
                StatusCode::NOT_FOUND,
                format!(
                    "no run {name:?} under {} (see /api/runs)",
                    self.runs_root.display()
                ),
            )
        })?;
        let app = self.clone();
        blocking(move || {
            if let Some(m) = app.kept(&name) {
                return Ok(m);
            }
            let model = Arc::new(
                Loaded::new(name, Some(dir.clone()), dir.join(runs::MODEL_FILE))
                    .map_err(|e| bad(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?,
            );
            model.evaluate_in_background(app.data.clone(), app.mnist_dir.clone());
            let mut others = app.others.lock().unwrap_or_else(|e| e.into_inner());
            if others.len() >= KEEP_RUNS {
                others.remove(0);
            }
            others.push(model.clone());
            Ok(model)
        })
        .await
    }

    fn kept(&self, name: &str) -> Option<Arc<Loaded>> {
        let others = self.others.lock().unwrap_or_else(|e| e.into_inner());
        others.iter().find(|m| m.name == name).cloned()
    }
}

/// Runs `f` on the blocking pool; a panic in it is a 500, not a dead server.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        bad(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the computation failed: {e}"),
        )
    })?
}

async fn model(State(app): State<Arc<App>>, Query(q): Query<Which>) -> ApiResult {
    let m = app.model(q.run).await?;
    let spec = m.net.spec();
    let conv = spec.input.len() == 3;
    Ok(Json(json!({
        "name": m.name,
        "run": m.run_dir.is_some(),
        "path": m.model_path.display().to_string(),
        "dtype": m.net.dtype(),
        "spec": spec.to_string(),
        "input": spec.input,
        "sizes": spec.sizes(),
        "layers": m.layer_names(),
        "kind": if conv { "conv" } else { "dense" },
        "first_layer": m.first_layer,
    })))
}

/// `{"pixels": [784 values]}`.
#[derive(Deserialize)]
struct Pixels {
    pixels: Vec<f64>,
}

/// The 784 input values of a predict request.
fn input_of(headers: &HeaderMap, body: &[u8]) -> Result<Vec<f32>, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("image/png") {
        let grey = grey_png(body, MAX_SIDE).map_err(|e| bad(StatusCode::BAD_REQUEST, e))?;
        let x = mnist_style(grey.view()).ok_or_else(|| {
            bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing is drawn: the image is blank",
            )
        })?;
        return Ok(x.into_iter().collect());
    }
    if !ct.is_empty() && !ct.starts_with("application/json") {
        return Err(bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content type {ct:?}: send application/json {{\"pixels\": [784 values]}} or image/png"
            ),
        ));
    }
    let p: Pixels = serde_json::from_slice(body).map_err(|e| {
        bad(
            StatusCode::BAD_REQUEST,
            format!("expected JSON {{\"pixels\": [784 grey values]}}: {e}"),
        )
    })?;
    if p.pixels.len() != 784 {
        return Err(bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "expected 784 grey values (28×28, row by row, 0 background, 1 ink), got {}",
                p.pixels.len()
            ),
        ));
    }
    if let Some((k, v)) = p
        .pixels
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("pixel {k} is {v}: grey values are in [0, 1]"),
        ));
    }
    Ok(p.pixels.iter().map(|&v| v as f32).collect())
}

/// `v` rounded to 4 decimals, for short JSON.
fn short(v: f32) -> f64 {
    (f64::from(v) * 1e4).round() / 1e4
}

async fn predict(
    State(app): State<Arc<App>>,
    Query(q): Query<Which>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let m = app.model(q.run).await?;
    let inside = q.inside.unwrap_or(false);
    blocking(move || {
        let x = input_of(&headers, &body)?;
        let acts = m.net.activations(&x);
        let scores: Vec<f32> = acts
            .last()
            .expect("a net has layers")
            .iter()
            .copied()
            .collect();
        let probs = softmax(&scores);
        let class = argmax(probs.iter().map(|&p| f64::from(p)));
        let mut out = json!({
            "class": class,
            "probs": probs.iter().map(|&p| short(p)).collect::<Vec<_>>(),
            "input": x.iter().map(|&p| short(p)).collect::<Vec<_>>(),
        });
        if inside {
            out["layers"] = layers(&m, &acts);
        }
        Ok(Json(out))
    })
    .await
}

/// The output of each block (a layer not followed by an activation, batch norm or dropout) and
/// the scores, at most [`MAX_CHANNELS`] channels of an image.
fn layers(m: &Loaded, acts: &[ndarray::ArrayD<f32>]) -> Value {
    use scratchnet_network::LayerSpec as L;
    let spec = &m.net.spec().layers;
    let names = m.layer_names();
    let shown = (0..spec.len()).filter(|&i| {
        i + 1 == spec.len()
            || !matches!(
                spec[i + 1],
                L::Relu | L::Sigmoid | L::BatchNorm | L::Dropout(_)
            )
    });
    shown
        .map(|i| {
            let a = &acts[i];
            let mut shape = a.shape().to_vec();
            let values: Vec<f64> = if shape.len() == 3 && shape[0] > MAX_CHANNELS {
                shape[0] = MAX_CHANNELS;
                a.iter()
                    .take(shape.iter().product())
                    .map(|&v| short(v))
                    .collect()
            } else {
                a.iter().map(|&v| short(v)).collect()
            };
            json!({
                "index": i,
                "name": names[i],
                "channels": a.shape()[0],
                "shape": shape,
                "values": values,
            })
        })
        .collect()
}

async fn list_runs(State(app): State<Arc<App>>) -> ApiResult {
    let root = app.runs_root.clone();
    let runs = blocking(move || Ok(runs::list(&root))).await?;
    Ok(Json(json!({
        "root": app.runs_root.display().to_string(),
        "current": app.default.name,
        "runs": runs,
    })))
}

async fn run(State(app): State<Arc<App>>, Query(q): Query<Which>) -> ApiResult {
    let m = app.model(q.run).await?;
    let Some(dir) = m.run_dir.clone() else {
        return Err(bad(
            StatusCode::NOT_FOUND,
            format!(
                "{} was served with --model: there is no run folder to show",
                m.name
            ),
        ));
    };
    let name = m.name.clone();
    let view = blocking(move || Ok(runs::view(&name, &dir))).await?;
    Ok(Json(
        serde_json::to_value(view).expect("plain data serialises"),
    ))
}

async fn test(State(app): State<Arc<App>>, Query(q): Query<Which>) -> ApiResult {
    let m = app.model(q.run).await?;
    let eval = m.test.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut v = serde_json::to_value(&eval).expect("plain data serialises");
    if let TestEval::Ready { mistakes, .. } = &eval {
        v["count"] = json!(mistakes.len());
        v["mistakes"] = json!(mistakes.iter().take(MAX_MISTAKES).collect::<Vec<_>>());
    }
    Ok(Json(v))
}

async fn test_image(State(app): State<Arc<App>>, UrlPath(index): UrlPath<String>) -> ApiResult {
    let i: usize = index.parse().map_err(|_| {
        bad(
            StatusCode::BAD_REQUEST,
            format!("{index:?} is not a test image index"),
        )
    })?;
    let test = match app.data.get() {
        Some(Ok(t)) => t,
        Some(Err(message)) => return Err(bad(StatusCode::NOT_FOUND, message.clone())),
        None => {
            return Err(bad(
                StatusCode::SERVICE_UNAVAILABLE,
                "the test set is still loading",
            ));
        }
    };
    if i >= test.len() {
        return Err(bad(
            StatusCode::NOT_FOUND,
            format!("test image {i}: the test set has {}", test.len()),
        ));
    }
    Ok(Json(json!({
        "index": i,
        "label": test.labels[i],
        "pixels": pixels(test.images.row(i)).into_iter().map(short).collect::<Vec<_>>(),
    })))
}
