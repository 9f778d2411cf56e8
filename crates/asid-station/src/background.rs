//! An observer on its own thread: events are copied and queued, so a slow observer (a rerun viewer
//! over the network, a disk that stalls) never delays the loop's calls. The arm layer hands
//! records to observers between plan-rate targets; a [`Background`] observer takes that time out
//! of the control path.
//!
//! The queue is unbounded: nothing is dropped, and a viewer that falls behind costs memory, not
//! waiting (the caller still copies each event). Dropping the [`Background`] closes the queue and
//! waits until the observer has received every event, at most [`DRAIN_TIMEOUT`]; an observer that
//! is still stuck then (a viewer that went away) is left behind with a warning that counts what
//! it did not receive. A background observer does not vote in [`Observer::confirm`] (it would
//! have to block the loop to answer).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use asid_arm::Record;

use crate::event::{Event, Observer};
use crate::executor::RunSummary;
use crate::report::Report;

/// An [`Event`] that owns its data, to cross a thread.
enum Owned {
    Step {
        index: usize,
        total: usize,
        title: String,
    },
    Progress {
        what: String,
        done: usize,
        total: usize,
    },
    Note(String),
    ExplorationPlanned(Box<asid_explore::Plan>),
    DryRunPassed(String),
    ControlLoopChecked {
        report: Box<asid_franka::DryRunReport>,
        tolerated_ms: u32,
        joints: Vec<String>,
    },
    Record(Box<Record>),
    EpisodeDone {
        path: PathBuf,
        summary: Box<RunSummary>,
    },
    Fit(Box<asid_sysid::Fit>),
    TaskPlanned {
        goal: String,
        plan: Box<asid_task::TaskPlan>,
    },
    TaskOutcome {
        goal: String,
        outcome: Box<asid_task::Outcome>,
    },
    BalancePlanned {
        perch: String,
        attempt: Box<crate::balance::BalanceAttempt>,
    },
    BalanceOutcome {
        perch: String,
        outcome: Box<asid_task::balance::BalanceOutcome>,
    },
    OpenPlanned(Box<asid_task::OpenPlan>),
    OpenOutcome(Box<asid_task::OpenOutcome>),
    CarryPlanned(Box<asid_task::CarryPlan>),
    CarryOutcome(Box<asid_task::CarryOutcome>),
    Finished(Box<Report>),
}

impl Owned {
    fn of(e: &Event<'_>) -> Self {
        match e {
            Event::Step {
                index,
                total,
                title,
            } => Self::Step {
                index: *index,
                total: *total,
                title: (*title).to_string(),
            },
            Event::Progress { what, done, total } => Self::Progress {
                what: (*what).to_string(),
                done: *done,
                total: *total,
            },
            Event::Note(n) => Self::Note((*n).to_string()),
            Event::ExplorationPlanned(p) => Self::ExplorationPlanned(Box::new((*p).clone())),
            Event::DryRunPassed { what } => Self::DryRunPassed((*what).to_string()),
            Event::ControlLoopChecked {
                report,
                tolerated_ms,
                joints,
            } => Self::ControlLoopChecked {
                report: Box::new((*report).clone()),
                tolerated_ms: *tolerated_ms,
                joints: joints.to_vec(),
            },
            Event::Record(r) => Self::Record(Box::new((*r).clone())),
            Event::EpisodeDone { path, summary } => Self::EpisodeDone {
                path: path.to_path_buf(),
                summary: Box::new((*summary).clone()),
            },
            Event::Fit(f) => Self::Fit(Box::new((*f).clone())),
            Event::TaskPlanned { goal, plan } => Self::TaskPlanned {
                goal: (*goal).to_string(),
                plan: Box::new((*plan).clone()),
            },
            Event::TaskOutcome { goal, outcome } => Self::TaskOutcome {
                goal: (*goal).to_string(),
                outcome: Box::new((*outcome).clone()),
            },
            Event::BalancePlanned { perch, attempt } => Self::BalancePlanned {
                perch: (*perch).to_string(),
                attempt: Box::new((*attempt).clone()),
            },
            Event::BalanceOutcome { perch, outcome } => Self::BalanceOutcome {
                perch: (*perch).to_string(),
                outcome: Box::new(**outcome),
            },
            Event::OpenPlanned(p) => Self::OpenPlanned(Box::new((*p).clone())),
            Event::OpenOutcome(o) => Self::OpenOutcome(Box::new((*o).clone())),
            Event::CarryPlanned(p) => Self::CarryPlanned(Box::new((*p).clone())),
            Event::CarryOutcome(o) => Self::CarryOutcome(Box::new((*o).clone())),
            Event::Finished(r) => Self::Finished(Box::new((*r).clone())),
        }
    }

    fn event(&self) -> Event<'_> {
        match self {
            Self::Step {
                index,
                total,
                title,
            } => Event::Step {
                index: *index,
                total: *total,
                title,
            },
            Self::Progress { what, done, total } => Event::Progress {
                what,
                done: *done,
                total: *total,
            },
            Self::Note(n) => Event::Note(n),
            Self::ExplorationPlanned(p) => Event::ExplorationPlanned(p),
            Self::DryRunPassed(what) => Event::DryRunPassed { what },
            Self::ControlLoopChecked {
                report,
                tolerated_ms,
                joints,
            } => Event::ControlLoopChecked {
                report,
                tolerated_ms: *tolerated_ms,
                joints,
            },
            Self::Record(r) => Event::Record(r),
            Self::EpisodeDone { path, summary } => Event::EpisodeDone { path, summary },
            Self::Fit(f) => Event::Fit(f),
            Self::TaskPlanned { goal, plan } => Event::TaskPlanned { goal, plan },
            Self::TaskOutcome { goal, outcome } => Event::TaskOutcome { goal, outcome },
            Self::BalancePlanned { perch, attempt } => Event::BalancePlanned { perch, attempt },
            Self::BalanceOutcome { perch, outcome } => Event::BalanceOutcome { perch, outcome },
            Self::OpenPlanned(p) => Event::OpenPlanned(p),
            Self::OpenOutcome(o) => Event::OpenOutcome(o),
            Self::CarryPlanned(p) => Event::CarryPlanned(p),
            Self::CarryOutcome(o) => Event::CarryOutcome(o),
            Self::Finished(r) => Event::Finished(r),
        }
    }
}

/// How long dropping a [`Background`] waits for its observer to receive the queued events.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// An observer that runs on its own thread (see the module's documentation).
pub struct Background {
    queue: Option<Sender<Owned>>,
    thread: Option<JoinHandle<()>>,
    /// Signalled by the thread when its queue is drained.
    done: Receiver<()>,
    sent: usize,
    delivered: Arc<AtomicUsize>,
    drain_timeout: Duration,
}

impl Background {
    /// Starts `observer` on a thread named `asid-<name>`.
    pub fn spawn(name: &str, observer: impl Observer + 'static) -> std::io::Result<Self> {
        Self::spawn_with_timeout(name, observer, DRAIN_TIMEOUT)
    }

    /// [`Self::spawn`] with another wait on drop than [`DRAIN_TIMEOUT`].
    pub fn spawn_with_timeout(
        name: &str,
        mut observer: impl Observer + 'static,
        drain_timeout: Duration,
    ) -> std::io::Result<Self> {
        let (queue, events) = channel::<Owned>();
        let (finished, done) = channel::<()>();
        let delivered = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&delivered);
        let thread = std::thread::Builder::new()
            .name(format!("asid-{name}"))
            .spawn(move || {
                for e in events {
                    observer.observe(&e.event());
                    count.fetch_add(1, Ordering::Relaxed);
                }
                let _ = finished.send(());
            })?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
            done,
            sent: 0,
            delivered,
            drain_timeout,
        })
    }
}

impl Observer for Background {
    fn observe(&mut self, event: &Event<'_>) {
        // A closed queue means the observer's thread ended (it panicked): nothing to deliver to.
        if let Some(q) = &self.queue {
            if q.send(Owned::of(event)).is_ok() {
                self.sent += 1;
                return;
            }
            self.queue = None;
            tracing::warn!(target: "asid_station", "a background observer stopped; its events are no longer delivered");
        }
    }
}

impl Drop for Background {
    /// Waits until the observer has received every queued event, at most the drain timeout.
    fn drop(&mut self) {
        self.queue = None;
        match self.done.recv_timeout(self.drain_timeout) {
            // Drained (or the thread ended early: it panicked, and joining reaps it).
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let left = self
                    .sent
                    .saturating_sub(self.delivered.load(Ordering::Relaxed));
                tracing::warn!(
                    target: "asid_station",
                    "a background observer did not take its last {left} of {} events within {:?}; left behind",
                    self.sent,
                    self.drain_timeout
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::RecvTimeoutError;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    /// An observer that cannot take its first event until the caller has made every call: on its
    /// own thread the calls all return and the gate opens; in the caller's thread it would wait
    /// out the gate's timeout and record that. Every event arrives, in order, by the drop.
    #[test]
    fn a_blocked_observer_does_not_hold_the_caller_and_misses_nothing() {
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let mut first = true;
        let blocked = move |e: &Event<'_>| {
            if std::mem::take(&mut first) {
                let waited = gate.recv_timeout(Duration::from_secs(10));
                sink.lock().expect("lock").push(format!(
                    "gate {:?}",
                    waited.map_err(|e| e == RecvTimeoutError::Timeout)
                ));
            }
            if let Event::Progress { done, .. } = e {
                sink.lock().expect("lock").push(done.to_string());
            }
        };
        let mut bg = Background::spawn("test", blocked).expect("thread");
        for done in 0..50 {
            bg.observe(&Event::Progress {
                what: "plan actions",
                done,
                total: 50,
            });
        }
        open.send(()).expect("the observer waits at its gate");
        drop(bg);
        let mut expected = vec!["gate Ok(())".to_string()];
        expected.extend((0..50).map(|d: usize| d.to_string()));
        assert_eq!(*seen.lock().expect("lock"), expected);
    }

    /// An observer that never returns: dropping its [`Background`] gives up after the timeout
    /// instead of hanging the process.
    #[test]
    fn a_stuck_observer_is_left_behind_after_the_drain_timeout() {
        let (_keep, gate) = std::sync::mpsc::channel::<()>();
        let stuck = move |_: &Event<'_>| {
            // Waits for a message that never comes (the sender lives until the test ends).
            let _ = gate.recv();
        };
        let mut bg = Background::spawn_with_timeout("stuck", stuck, Duration::from_millis(50))
            .expect("thread");
        bg.observe(&Event::Note("first"));
        bg.observe(&Event::Note("second"));
        let (finished, dropped) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(bg);
            let _ = finished.send(());
        });
        assert!(
            dropped.recv_timeout(Duration::from_secs(20)).is_ok(),
            "the drop waited for a stuck observer"
        );
    }
}
