//! The optimiser's path: the best cost and parameters after each iteration, recorded by an argmin
//! observer, so that a fit can show how it converged (the station's rerun view plots it).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use argmin::core::observers::Observe;
use argmin::core::{Error, KV, State};
use serde::{Deserialize, Serialize};

/// One iteration of the optimiser that produced the estimate (the winning start of the chosen
/// structure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitIteration {
    /// Iteration number: 0 what the solver's initialisation evaluated (LM's start, the best of
    /// Nelder-Mead's first simplex or of the swarm's first particles; none for CEM), `k` after the
    /// solver's `k`-th iteration.
    pub iteration: u64,
    /// The solver's cost of the best parameters so far: the sum of the loss over whitened
    /// residuals (with the squared loss, half the sum of squares: [`crate::Fit::cost`] at the
    /// end).
    pub cost: f64,
    /// The best parameters so far, by name (the structure's discrete values included).
    pub estimate: BTreeMap<String, f64>,
}

/// Best cost and best (scaled) parameters after each iteration.
pub(crate) type Steps = Vec<(u64, f64, Vec<f64>)>;

/// Shared storage an observer fills while the executor owns it.
#[derive(Clone, Default)]
pub(crate) struct Trail(Arc<Mutex<Steps>>);

impl Trail {
    /// An argmin observer that records into this trail; `param` reads the solver's parameter
    /// vector (a particle's position, for the swarm).
    pub(crate) fn observer<P>(&self, param: fn(&P) -> Vec<f64>) -> TrailObserver<P> {
        TrailObserver {
            steps: Arc::clone(&self.0),
            param,
        }
    }

    /// What was recorded.
    pub(crate) fn take(&self) -> Steps {
        self.0
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

/// The argmin observer of a [`Trail`].
pub(crate) struct TrailObserver<P> {
    steps: Arc<Mutex<Steps>>,
    param: fn(&P) -> Vec<f64>,
}

impl<P> TrailObserver<P> {
    fn record<I: State<Param = P, Float = f64>>(&self, iteration: u64, state: &I) {
        if let Some(p) = state.get_best_param()
            && state.get_best_cost().is_finite()
        {
            let u = (self.param)(p);
            if let Ok(mut steps) = self.steps.lock() {
                steps.push((iteration, state.get_best_cost(), u));
            }
        }
    }
}

impl<I, P> Observe<I> for TrailObserver<P>
where
    I: State<Param = P, Float = f64>,
{
    /// What the solver's initialisation evaluated (nothing for CEM, whose first population is
    /// drawn in its first iteration).
    fn observe_init(&mut self, _name: &str, state: &I, _kv: &KV) -> Result<(), Error> {
        self.record(0, state);
        Ok(())
    }

    /// After iteration `k` (argmin counts from 0 while it observes): entry `k + 1`.
    fn observe_iter(&mut self, state: &I, _kv: &KV) -> Result<(), Error> {
        self.record(state.get_iter() + 1, state);
        Ok(())
    }
}
