//! A training session: drives a [`Trainer`] to its planned iteration count (or until
//! interrupted), shows progress, and writes the run folder.
//!
//! | file | written |
//! |---|---|
//! | `run.id` | first, when the session starts |
//! | `checkpoint.bin`, `loss.csv`, `accuracy.csv` | at the first epoch evaluation, then at the first one 10 s after the last write, and at the end |
//! | `model.bin`, `loss.png`, `accuracy.png`, `summary.json` | at the end (finished, interrupted, or stopped by a non-finite loss) |
//!
//! Every file is written to a temp file and renamed into place.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use scratchnet_tensor::Scalar;

use crate::{CHECKPOINT_FILE, MODEL_FILE, RUN_ID_FILE, Summary};
use crate::{Step, TrainError, Trainer, fmt_rate};
use scratchnet_fileio::{errln, outln};

/// The least time between two writes of the resumable state during a session.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// How a session reports progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A bar on stderr if stderr is a terminal, otherwise [`Progress::Lines`].
    Auto,
    /// An indicatif bar on stderr (iteration, loss, it/s, ETA); accuracy lines on stdout.
    Bar,
    /// A plain progress line on stderr at every evaluation and at least every 10 s; accuracy
    /// lines on stdout.
    Lines,
    /// Nothing printed at all.
    Quiet,
}

/// Where and how a session runs.
#[derive(Clone, Debug)]
pub struct Session {
    /// The run folder; it must exist (and be claimed, see [`RunDir`](scratchnet_fileio::RunDir)).
    pub out: PathBuf,
    /// The run's id, written to `summary.json` and `checkpoint.bin`.
    pub run_id: Option<String>,
    /// Stop as if Ctrl-C was pressed once this many iterations are done in total (counting
    /// those of earlier sessions of the run), or `None` to run to the end.
    pub stop_after: Option<usize>,
    /// Set (e.g. by a Ctrl-C handler) to stop after the current iteration.
    pub interrupt: Arc<AtomicBool>,
    /// Progress reporting.
    pub progress: Progress,
    /// The data folder, recorded in the summary.
    pub data_dir: PathBuf,
}

/// How a session ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The planned number of iterations is done.
    Finished,
    /// Stopped early by the interrupt flag or `stop_after`; `--resume` continues it.
    Interrupted,
}

/// Writes `checkpoint.bin` and the two CSVs: the state that `--resume` needs.
fn write_progress<A: Scalar>(
    t: &Trainer<'_, A>,
    wall_s: f64,
    out: &Path,
    run_id: Option<&str>,
) -> Result<(), TrainError> {
    let mut ck = t.checkpoint(wall_s);
    ck.run_id = run_id.map(str::to_owned);
    ck.write(&out.join(CHECKPOINT_FILE))?;
    t.metrics()
        .write_csvs(out, t.config().dtype, t.config().held_out())
}

/// Writes every file of the run folder for the trainer's current state.
fn write_all<A: Scalar>(
    t: &Trainer<'_, A>,
    wall_s: f64,
    s: &Session,
    error: Option<String>,
) -> Result<Summary, TrainError> {
    write_progress(t, wall_s, &s.out, s.run_id.as_deref())?;
    t.net()
        .save(s.out.join(MODEL_FILE))
        .map_err(TrainError::ModelOutput)?;
    let subtitle = t.config().describe();
    crate::plot::draw_run(&s.out, t.metrics(), &subtitle, t.config().held_out())?;
    // the book's Trainer ends with the full test set when it evaluated on samples
    let (train_acc, test_acc) = match t.metrics().accuracy.last() {
        _ if t.config().schedule.eval_samples.is_some() => t.evaluate_full(),
        Some(r) if r.iteration == t.iters_done() => (r.train_acc, r.test_acc),
        _ => t.evaluate(),
    };
    let summary = Summary {
        config: t.config().clone(),
        describe: t.config().describe(),
        run_id: s.run_id.clone(),
        iters_done: t.iters_done(),
        train_size: t.data().train_size(),
        test_size: t.data().test_size(),
        iter_per_epoch: t.iter_per_epoch(),
        evaluations: t.metrics().accuracy.len(),
        train_acc,
        test_acc,
        final_loss: t.metrics().losses.last().copied(),
        wall_s,
        iters_per_s: if wall_s > 0.0 {
            t.iters_done() as f64 / wall_s
        } else {
            0.0
        },
        threads: rayon::current_num_threads(),
        interrupted: !t.is_finished(),
        error,
        data_dir: s.data_dir.display().to_string(),
    };
    summary.write(&s.out)?;
    Ok(summary)
}

/// Prints progress according to [`Progress`].
struct Reporter {
    bar: Option<ProgressBar>,
    lines: bool,
    last_line: Instant,
    session_start: Instant,
    start_iter: usize,
    held_out: crate::HeldOut,
}

impl Reporter {
    fn new(mode: Progress, done: usize, total: usize, held_out: crate::HeldOut) -> Self {
        let mode = match mode {
            Progress::Auto if std::io::stderr().is_terminal() => Progress::Bar,
            Progress::Auto => Progress::Lines,
            m => m,
        };
        let bar = (mode == Progress::Bar).then(|| {
            let style = bar_style(true);
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
                    .with_style(style)
                    .with_position(done as u64);
            bar.reset_eta();
            bar
        });
        let now = Instant::now();
        Reporter {
            bar,
            lines: mode == Progress::Lines,
            last_line: now,
            session_start: now,
            start_iter: done,
            held_out,
        }
    }

    fn step(&mut self, done: usize, total: usize, loss: f64, eval: Option<&crate::AccuracyRow>) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            if done % 20 == 0 || eval.is_some() || done == total {
                bar.set_message(fmt_loss(loss));
            }
            if let Some(r) = eval {
                bar.suspend(|| outln!("{}", r.line(self.held_out)));
            }
        } else if self.lines {
            if let Some(r) = eval {
                outln!("{}", r.line(self.held_out));
            }
            let now = Instant::now();
            if eval.is_some() || now - self.last_line >= Duration::from_secs(10) || done == total {
                self.last_line = now;
                let secs = (now - self.session_start).as_secs_f64();
                let steps = done - self.start_iter;
                // The first steps include the first evaluation: no honest rate yet (unless
                // the steps themselves are slow, as with a numerical gradient).
                let speed = if steps >= 10 || (steps >= 1 && secs >= 30.0) {
                    let rate = steps as f64 / secs.max(1e-9);
                    let eta = (total - done) as f64 / rate.max(1e-9);
                    format!("{}  ETA {}", fmt_rate(rate), fmt_secs(eta))
                } else {
                    "-- it/s  ETA --".to_string()
                };
                errln!("iteration {done}/{total}  loss {}  {speed}", fmt_loss(loss));
            }
        }
    }

    /// Ends the bar; `stopped` (Ctrl-C, an error) drops its ETA, which no longer means anything.
    fn finish(&self, stopped: bool) {
        if let Some(bar) = &self.bar {
            if stopped {
                bar.set_style(bar_style(false));
            }
            bar.abandon();
        }
    }
}

/// The bar: `00:00:02 [=====>    ] 1200/10000 it | loss 0.3123 | 2301 it/s | ETA 4s`.
fn bar_style(with_eta: bool) -> ProgressStyle {
    let template = if with_eta {
        "{elapsed_precise} [{bar:30.cyan/blue}] {pos}/{len} it | loss {msg} | {rate} | ETA {eta}"
    } else {
        "{elapsed_precise} [{bar:30.cyan/blue}] {pos}/{len} it | loss {msg} | {rate} | stopped"
    };
    ProgressStyle::with_template(template)
        .expect("a valid template")
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", fmt_rate(state.per_sec()));
            },
        )
        .progress_chars("=> ")
}

/// Runs `trainer` until it has done its planned iterations, the interrupt flag is set, or
/// `stop_after` is reached; `wall_before` is the training time of earlier sessions.
///
/// Writes the checkpoint and CSVs at every evaluation and every file at the end. A non-finite
/// loss undoes its step, writes every file for the last finite state (its `summary.json` has
/// `interrupted: true` and the `error`) and returns [`TrainError::NonFinite`].
///
/// ```
/// use std::sync::{Arc, atomic::AtomicBool};
/// use scratchnet_trainer::*;
/// let data = SparseMnist::<f32>::toy(20);
/// let mut config = RunConfig { dtype: Dtype::F32, ..Default::default() };
/// config.schedule = Schedule { iters: 6, batch: 10, gradient: scratchnet_network::Gradient::Backprop,
///     epochs: None, eval_samples: None };
/// let dir = tempfile::tempdir()?;
/// let session = Session {
///     out: dir.path().to_owned(),
///     run_id: Some(scratchnet_fileio::new_run_id()),
///     stop_after: Some(4), // as if Ctrl-C came after 4 iterations
///     interrupt: Arc::new(AtomicBool::new(false)),
///     progress: Progress::Quiet,
///     data_dir: "synthetic".into(),
/// };
/// let (outcome, summary) = run_session(Trainer::new(config, &data)?, 0.0, &session)?;
/// assert_eq!(outcome, Outcome::Interrupted);
/// assert_eq!((summary.iters_done, summary.interrupted), (4, true));
/// let on_disk = Summary::read(&dir.path().join(SUMMARY_FILE))?;
/// assert_eq!((on_disk.iters_done, on_disk.evaluations), (4, 2));
///
/// // continue from the checkpoint to the planned 6 iterations
/// let ck = Checkpoint::<f32>::read(&dir.path().join("checkpoint.bin"))?;
/// let session = Session { stop_after: None, ..session };
/// let (outcome, summary) = run_session(Trainer::from_checkpoint(ck, &data)?, summary.wall_s, &session)?;
/// assert_eq!((outcome, summary.iters_done), (Outcome::Finished, 6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_session<A: Scalar>(
    mut trainer: Trainer<'_, A>,
    wall_before: f64,
    s: &Session,
) -> Result<(Outcome, Summary), TrainError> {
    let total = trainer.config().schedule.iters;
    let mut rep = Reporter::new(
        s.progress,
        trainer.iters_done(),
        total,
        trainer.config().held_out(),
    );
    if let Some(id) = &s.run_id {
        scratchnet_fileio::write_atomic(s.out.join(RUN_ID_FILE), format!("{id}\n").as_bytes())
            .map_err(TrainError::Output)?;
    }
    let start = Instant::now();
    let wall = |start: Instant| wall_before + start.elapsed().as_secs_f64();
    let mut last_write: Option<Instant> = None;
    // The loop runs on a thread of rayon's pool: a parallel region started there runs on the
    // calling thread plus the others, where one started from outside the pool would hand the
    // work over and put the caller to sleep and wake it again, several times per step.
    let interrupted = rayon::scope(|_| -> Result<bool, TrainError> {
        while !trainer.is_finished() {
            if s.interrupt.load(Ordering::SeqCst)
                || s.stop_after.is_some_and(|n| trainer.iters_done() >= n)
            {
                return Ok(true);
            }
            match trainer.step() {
                Step::Done { loss, eval } => {
                    rep.step(trainer.iters_done(), total, loss, eval.as_ref());
                    // The resumable state at the session's first evaluation, then at most
                    // every PROGRESS_EVERY: each write holds the whole history, so writing at
                    // every evaluation of a run with tiny epochs grows as the square of its
                    // length. The end, an interrupt and an error write everything anyway.
                    if eval.is_some()
                        && last_write.is_none_or(|t: Instant| t.elapsed() >= PROGRESS_EVERY)
                    {
                        write_progress(&trainer, wall(start), &s.out, s.run_id.as_deref())?;
                        last_write = Some(Instant::now());
                    }
                }
                Step::NonFinite { loss } => {
                    rep.finish(true);
                    let err = TrainError::NonFinite {
                        iteration: trainer.iters_done() + 1,
                        loss: loss.to_string(),
                        out: s.out.clone(),
                    };
                    write_all(&trainer, wall(start), s, Some(err.to_string()))?;
                    return Err(err);
                }
            }
        }
        Ok(false)
    })?;
    rep.finish(interrupted);
    let summary = write_all(&trainer, wall(start), s, None)?;
    let outcome = if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Finished
    };
    Ok((outcome, summary))
}

/// A loss for a progress line: `0.3123`, and from 1e6 on `4.0075e290` (never 300 digits).
fn fmt_loss(loss: f64) -> String {
    if loss.abs() >= 1e6 {
        format!("{loss:.4e}")
    } else {
        format!("{loss:.4}")
    }
}

/// Seconds as `M:SS`, or `H:MM:SS` from an hour on.
fn fmt_secs(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_huge_loss_is_written_short_and_a_long_wait_in_hours() {
        assert_eq!(super::fmt_loss(0.31234), "0.3123");
        assert_eq!(super::fmt_loss(4.00747542e290), "4.0075e290");
        assert_eq!(super::fmt_loss(f64::NAN), "NaN");
        assert_eq!(super::fmt_secs(65.4), "1:05");
        assert_eq!(super::fmt_secs(3725.0), "1:02:05");
    }
}
