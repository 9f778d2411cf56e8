//! A bounded Levenberg-Marquardt solver for argmin (argmin has Gauss-Newton but no LM): Marquardt's
//! diagonal scaling, steps projected onto the box, lambda adapted on success / failure.
//!
//! Steps come from the operator's residuals and Jacobian (for a robust loss, IRLS-weighted: their
//! gradient is the robust cost's); a step is accepted only when it lowers the problem's own cost
//! ([`CostFunction`], e.g. the Huber cost), never a surrogate of it, and that cost is the state's.

use argmin::core::{
    ArgminError, CostFunction, Error, IterState, Jacobian, KV, Operator, Problem, Solver, State,
    TerminationReason, TerminationStatus,
};
use nalgebra::{DMatrix, DVector};

/// State of the LM iterations.
pub type LmState = IterState<Vec<f64>, (), (), (), (), f64>;

/// Bounded Levenberg-Marquardt on residuals `r(u)` with Jacobian `J(u)`.
#[derive(Debug, Clone)]
pub struct LevenbergMarquardt {
    bounds: Vec<[f64; 2]>,
    lambda: f64,
    step_tolerance: f64,
    cost_tolerance: f64,
    converged: bool,
    residuals: Option<Vec<f64>>,
}

impl LevenbergMarquardt {
    /// LM inside the box `bounds`.
    pub fn new(bounds: Vec<[f64; 2]>) -> Self {
        Self {
            bounds,
            lambda: 1e-3,
            step_tolerance: 1e-10,
            cost_tolerance: 1e-14,
            converged: false,
            residuals: None,
        }
    }

    fn project(&self, u: &mut [f64]) {
        for (v, [lo, hi]) in u.iter_mut().zip(&self.bounds) {
            *v = v.clamp(*lo, *hi);
        }
    }
}

impl<O> Solver<O, LmState> for LevenbergMarquardt
where
    O: Operator<Param = Vec<f64>, Output = Vec<f64>>
        + Jacobian<Param = Vec<f64>, Jacobian = DMatrix<f64>>
        + CostFunction<Param = Vec<f64>, Output = f64>,
{
    fn name(&self) -> &str {
        "bounded Levenberg-Marquardt"
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: LmState,
    ) -> Result<(LmState, Option<KV>), Error> {
        let mut u = state
            .get_param()
            .cloned()
            .ok_or_else(|| ArgminError::NotInitialized {
                text: "LM needs an initial parameter vector".into(),
            })?;
        self.project(&mut u);
        let r = problem.apply(&u)?;
        let c = problem.cost(&u)?;
        self.residuals = Some(r);
        Ok((state.param(u).cost(c), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: LmState,
    ) -> Result<(LmState, Option<KV>), Error> {
        let u = state
            .get_param()
            .cloned()
            .ok_or_else(|| ArgminError::NotInitialized {
                text: "no parameter".into(),
            })?;
        let r = match self.residuals.take() {
            Some(r) => r,
            None => problem.apply(&u)?,
        };
        let cost = state.get_cost();
        let cost = if cost.is_finite() {
            cost
        } else {
            problem.cost(&u)?
        };
        let j = problem.jacobian(&u)?;
        let jt = j.transpose();
        let h = &jt * &j;
        let g = &jt * DVector::from_column_slice(&r);
        let n = u.len();
        loop {
            let mut a = h.clone();
            for i in 0..n {
                a[(i, i)] += self.lambda * h[(i, i)].max(1e-12) + 1e-12;
            }
            let step = a.lu().solve(&(-&g)).unwrap_or_else(|| DVector::zeros(n));
            let mut trial: Vec<f64> = u.iter().zip(step.iter()).map(|(a, b)| a + b).collect();
            self.project(&mut trial);
            let moved = trial
                .iter()
                .zip(&u)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            if moved < self.step_tolerance {
                self.converged = true;
                self.residuals = Some(r);
                return Ok((
                    state.param(u).cost(cost),
                    Some(argmin::kv!("lambda" => self.lambda;)),
                ));
            }
            let c_trial = problem.cost(&trial)?;
            if c_trial < cost {
                let r_trial = problem.apply(&trial)?;
                self.lambda = (self.lambda / 3.0).max(1e-12);
                if (cost - c_trial) <= self.cost_tolerance * cost.max(1e-300) {
                    self.converged = true;
                }
                self.residuals = Some(r_trial);
                return Ok((
                    state.param(trial).cost(c_trial),
                    Some(argmin::kv!("lambda" => self.lambda;)),
                ));
            }
            self.lambda *= 4.0;
            if self.lambda > 1e12 {
                self.converged = true;
                self.residuals = Some(r);
                return Ok((
                    state.param(u).cost(cost),
                    Some(argmin::kv!("lambda" => self.lambda;)),
                ));
            }
        }
    }

    fn terminate(&mut self, _state: &LmState) -> TerminationStatus {
        if self.converged {
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        } else {
            TerminationStatus::NotTerminated
        }
    }
}
