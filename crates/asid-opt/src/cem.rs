//! The Cross-Entropy Method as an argmin [`Solver`]: sample a population from a diagonal Gaussian
//! inside box bounds, keep the elite fraction, refit the Gaussian, repeat.
//!
//! Three guards keep the search honest when the cost landscape is harsh:
//! - **no infeasible elite**: a cost that is not finite or at least the infeasibility threshold
//!   ([`INFEASIBLE_COST`] by default, the penalty the planner and the identification return) never
//!   enters the elite set, however few candidates are feasible;
//! - **an elite floor** ([`MIN_ELITES`]): when fewer feasible candidates than the floor exist, the
//!   missing elites are taken to be draws of the previous sampling distribution, so the refit is the
//!   moment match of the feasible elites and the previous Gaussian (weighted by the missing count);
//!   with no feasible candidate at all the distribution is kept as it was and the next population
//!   is drawn from it again. One or two lucky feasible points therefore cannot collapse the search;
//! - **a std floor** relative to the box width ([`DEFAULT_STD_FLOOR`], [`CrossEntropy::with_std_floor`]),
//!   so the distribution never shrinks to a point before the iterations end.

use argmin::core::PopulationState;
use argmin::core::{
    ArgminError, CostFunction, Error, KV, Problem, Solver, State, SyncAlias, TerminationReason,
    TerminationStatus,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// State type the CEM solver runs on.
pub type CemState = PopulationState<Vec<f64>, f64>;

/// Default infeasibility threshold: a cost at or above it marks a penalised candidate.
pub const INFEASIBLE_COST: f64 = 1e30;

/// Fewest elites a refit uses (missing feasible elites are filled from the previous distribution).
pub const MIN_ELITES: usize = 2;

/// Default std floor, as a fraction of each box width.
pub const DEFAULT_STD_FLOOR: f64 = 1e-4;

/// Cross-Entropy Method with box bounds, seeded and reproducible; the population is evaluated with
/// the problem's `bulk_cost` (parallel with argmin's `rayon` feature).
#[derive(Clone, Debug)]
pub struct CrossEntropy {
    bounds: Vec<[f64; 2]>,
    population: usize,
    elites: usize,
    mean: Vec<f64>,
    std: Vec<f64>,
    /// Std floor as a fraction of each box width.
    std_floor: f64,
    /// Costs at or above this (or not finite) are infeasible.
    infeasible_at: f64,
    /// The elites of the last iteration.
    last_elites: Vec<Vec<f64>>,
    smoothing: f64,
    seed: u64,
    rng: StdRng,
    warm_starts: Vec<Vec<f64>>,
    std_tolerance: f64,
}

impl CrossEntropy {
    /// A CEM over the box `bounds`, starting from the box centre with a std of a quarter of its width.
    pub fn new(bounds: Vec<[f64; 2]>, population: usize, seed: u64) -> Result<Self, Error> {
        if bounds.is_empty()
            || bounds
                .iter()
                .any(|[lo, hi]| !(lo.is_finite() && hi.is_finite() && lo <= hi))
        {
            return Err(ArgminError::InvalidParameter {
                text: "CEM bounds must be finite [low, high] pairs".into(),
            }
            .into());
        }
        if population < 2 {
            return Err(ArgminError::InvalidParameter {
                text: "CEM population must be at least 2".into(),
            }
            .into());
        }
        let mean = bounds.iter().map(|[lo, hi]| 0.5 * (lo + hi)).collect();
        let std = bounds.iter().map(|[lo, hi]| 0.25 * (hi - lo)).collect();
        Ok(Self {
            elites: (population / 5).max(MIN_ELITES),
            bounds,
            population,
            mean,
            std,
            std_floor: DEFAULT_STD_FLOOR,
            infeasible_at: INFEASIBLE_COST,
            last_elites: Vec::new(),
            smoothing: 0.0,
            seed,
            rng: StdRng::seed_from_u64(seed),
            warm_starts: Vec::new(),
            std_tolerance: 0.0,
        })
    }

    /// Number of elites kept per iteration (default: a fifth of the population, at least
    /// [`MIN_ELITES`]).
    pub fn with_elites(mut self, elites: usize) -> Result<Self, Error> {
        if elites < MIN_ELITES || elites > self.population {
            return Err(ArgminError::InvalidParameter {
                text: format!(
                    "elites must be in {MIN_ELITES}..={} (got {elites})",
                    self.population
                ),
            }
            .into());
        }
        self.elites = elites;
        Ok(self)
    }

    /// Std floor as a fraction of each box width (default [`DEFAULT_STD_FLOOR`]); must be in [0, 1).
    pub fn with_std_floor(mut self, fraction: f64) -> Result<Self, Error> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(ArgminError::InvalidParameter {
                text: format!(
                    "the std floor must be a fraction of the box width in [0, 1) (got {fraction})"
                ),
            }
            .into());
        }
        self.std_floor = fraction;
        Ok(self)
    }

    /// Costs at or above `threshold` mark infeasible (penalised) candidates, never elites
    /// (default [`INFEASIBLE_COST`]; costs that are not finite are always infeasible).
    pub fn with_infeasible_at(mut self, threshold: f64) -> Self {
        self.infeasible_at = threshold;
        self
    }

    /// Initial mean and standard deviation of the sampling distribution.
    pub fn with_initial(mut self, mean: Vec<f64>, std: Vec<f64>) -> Result<Self, Error> {
        if mean.len() != self.bounds.len() || std.len() != self.bounds.len() {
            return Err(ArgminError::InvalidParameter {
                text: "initial mean / std have the wrong length".into(),
            }
            .into());
        }
        self.mean = mean;
        self.std = std;
        Ok(self)
    }

    /// Smoothing of the distribution update: new = a * old + (1 - a) * elite fit.
    pub fn with_smoothing(mut self, a: f64) -> Result<Self, Error> {
        if !(0.0..1.0).contains(&a) {
            return Err(ArgminError::InvalidParameter {
                text: "smoothing must be in [0, 1)".into(),
            }
            .into());
        }
        self.smoothing = a;
        Ok(self)
    }

    /// Candidates added to the first population (e.g. the best plan so far).
    pub fn with_warm_starts(mut self, starts: Vec<Vec<f64>>) -> Self {
        self.warm_starts = starts;
        self
    }

    /// Stop when every std has fallen to this fraction of its box width, or to the std floor if
    /// that is larger (below the floor the distribution cannot shrink; it has converged there).
    pub fn with_std_tolerance(mut self, tol: f64) -> Self {
        self.std_tolerance = tol;
        self
    }

    /// The current sampling mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The current sampling std.
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// The elites of the last iteration (feasible candidates only; empty when none was).
    pub fn last_elites(&self) -> &[Vec<f64>] {
        &self.last_elites
    }

    fn is_feasible(&self, cost: f64) -> bool {
        cost.is_finite() && cost < self.infeasible_at
    }

    /// Refits the sampling distribution to the feasible `elites` (indices into `pop`), filling up to
    /// [`MIN_ELITES`] with the previous distribution (see the module docs).
    fn refit(&mut self, pop: &[Vec<f64>], elites: &[usize]) {
        if elites.is_empty() {
            // Nothing feasible: keep the distribution and draw again.
            return;
        }
        let missing = MIN_ELITES.saturating_sub(elites.len()) as f64;
        let n = elites.len() as f64 + missing;
        for (d, [lo, hi]) in self.bounds.iter().enumerate() {
            let (old_m, old_s) = (self.mean[d], self.std[d]);
            let m = (elites.iter().map(|&i| pop[i][d]).sum::<f64>() + missing * old_m) / n;
            let v = (elites.iter().map(|&i| (pop[i][d] - m).powi(2)).sum::<f64>()
                + missing * (old_s * old_s + (old_m - m).powi(2)))
                / n;
            let width = hi - lo;
            self.mean[d] = self.smoothing * old_m + (1.0 - self.smoothing) * m;
            self.std[d] = (self.smoothing * old_s + (1.0 - self.smoothing) * v.sqrt())
                .max(self.std_floor * width);
        }
    }

    fn sample(&mut self) -> Vec<f64> {
        self.mean
            .iter()
            .zip(&self.std)
            .zip(&self.bounds)
            .map(|((m, s), [lo, hi])| {
                let z: f64 = StandardNormal.sample(&mut self.rng);
                // Samples are proposals: folding them into the box keeps the search inside it.
                (m + s * z).clamp(*lo, *hi)
            })
            .collect()
    }
}

impl<O> Solver<O, CemState> for CrossEntropy
where
    O: CostFunction<Param = Vec<f64>, Output = f64> + SyncAlias,
{
    fn name(&self) -> &str {
        "Cross-Entropy Method"
    }

    fn init(
        &mut self,
        _problem: &mut Problem<O>,
        state: CemState,
    ) -> Result<(CemState, Option<KV>), Error> {
        self.rng = StdRng::seed_from_u64(self.seed);
        Ok((state, None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: CemState,
    ) -> Result<(CemState, Option<KV>), Error> {
        let mut pop: Vec<Vec<f64>> = std::mem::take(&mut self.warm_starts)
            .into_iter()
            .map(|w| {
                w.iter()
                    .zip(&self.bounds)
                    .map(|(v, [lo, hi])| v.clamp(*lo, *hi))
                    .collect()
            })
            .collect();
        while pop.len() < self.population {
            pop.push(self.sample());
        }
        let costs = problem.bulk_cost(&pop)?;
        let mut order: Vec<usize> = (0..pop.len()).collect();
        order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
        let feasible: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| self.is_feasible(costs[i]))
            .collect();
        let elites = &feasible[..self.elites.min(feasible.len())];
        self.refit(&pop, elites);
        self.last_elites = elites.iter().map(|&i| pop[i].clone()).collect();
        let best = order[0];
        let elite_cost = if elites.is_empty() {
            f64::NAN
        } else {
            elites.iter().map(|&i| costs[i]).sum::<f64>() / elites.len() as f64
        };
        let kv = argmin::kv!(
            "elite_cost" => elite_cost;
            "feasible" => feasible.len() as u64;
            "max_std" => self.std.iter().copied().fold(0.0, f64::max);
        );
        let best_param = pop[best].clone();
        let best_cost = costs[best];
        Ok((
            state.individual(best_param).cost(best_cost).population(pop),
            Some(kv),
        ))
    }

    fn terminate(&mut self, _state: &CemState) -> TerminationStatus {
        let tol = self.std_tolerance.max(self.std_floor);
        let converged = self.std_tolerance > 0.0
            && self
                .std
                .iter()
                .zip(&self.bounds)
                .all(|(s, [lo, hi])| *s <= tol * (hi - lo) * (1.0 + 1e-12));
        if converged {
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        } else {
            TerminationStatus::NotTerminated
        }
    }
}

/// Best individual of a finished CEM run (argmin's state keeps it).
pub fn best_of(state: &CemState) -> Option<(&Vec<f64>, f64)> {
    state.get_best_param().map(|p| (p, state.get_best_cost()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argmin::core::Executor;

    /// A bowl centred at 0.9 whose right part (x > 0.5) is penalised: the best feasible point is
    /// 0.5, and every penalised candidate scores better than the feasible ones would without the
    /// penalty, so a solver that let penalised candidates in would drift right.
    struct Fenced;
    impl CostFunction for Fenced {
        type Param = Vec<f64>;
        type Output = f64;
        fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
            if x[0] > 0.5 {
                Ok(INFEASIBLE_COST)
            } else {
                Ok((x[0] - 0.9).powi(2))
            }
        }
    }

    /// Feasible only in a thin sliver at the left edge of the box.
    struct Sliver;
    impl CostFunction for Sliver {
        type Param = Vec<f64>;
        type Output = f64;
        fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
            if x[0] < -0.9 {
                Ok(x[0].abs() + x[1].abs())
            } else {
                Ok(f64::INFINITY)
            }
        }
    }

    fn one_iteration<O>(solver: &mut CrossEntropy, problem: O) -> CemState
    where
        O: CostFunction<Param = Vec<f64>, Output = f64> + SyncAlias,
    {
        let mut problem = Problem::new(problem);
        let (state, _) = solver.init(&mut problem, CemState::new()).expect("init");
        solver.next_iter(&mut problem, state).expect("iteration").0
    }

    #[test]
    fn penalised_candidates_never_become_elites() {
        // Few feasible candidates per population (the sliver is 5 % of the box): fewer than the
        // 4 elites, so filling the elite set by rank would take penalised ones.
        let mut solver = CrossEntropy::new(vec![[-1.0, 1.0]; 2], 20, 7).expect("solver");
        let mut short = 0;
        for _ in 0..6 {
            one_iteration(&mut solver, Sliver);
            if solver.last_elites().len() < 4 {
                short += 1;
            }
            for e in solver.last_elites() {
                assert!(e[0] < -0.9, "infeasible elite {e:?}");
            }
        }
        assert!(
            short > 0,
            "the case with too few feasible candidates was not exercised"
        );

        let mut solver = CrossEntropy::new(vec![[-1.0, 1.0]], 40, 3).expect("solver");
        for _ in 0..10 {
            one_iteration(&mut solver, Fenced);
            assert!(!solver.last_elites().is_empty());
            for e in solver.last_elites() {
                assert!(e[0] <= 0.5, "infeasible elite {e:?}");
            }
        }
        // The search settles at the fence, on the feasible side.
        assert!((solver.mean()[0] - 0.5).abs() < 0.05, "{:?}", solver.mean());
    }

    #[test]
    fn with_one_feasible_candidate_the_distribution_keeps_the_previous_spread() {
        // Population of 10 with all but one warm start infeasible: one feasible elite is below
        // the floor of two, so the refit mixes it with the previous distribution.
        let mut warm = vec![vec![0.0, 0.0]; 9];
        warm.push(vec![-0.95, 0.1]);
        let mut solver = CrossEntropy::new(vec![[-1.0, 1.0]; 2], 10, 1)
            .expect("solver")
            .with_warm_starts(warm);
        let std0 = solver.std().to_vec();
        one_iteration(&mut solver, Sliver);
        assert_eq!(solver.last_elites(), &[vec![-0.95, 0.1]]);
        // Half elite, half previous N(0, 0.5): mean -0.475 / 0.05, std stays of the previous order.
        assert!(
            (solver.mean()[0] + 0.475).abs() < 1e-12,
            "{:?}",
            solver.mean()
        );
        assert!(
            (solver.mean()[1] - 0.05).abs() < 1e-12,
            "{:?}",
            solver.mean()
        );
        for (s, s0) in solver.std().iter().zip(&std0) {
            assert!(
                *s >= s0 / 2f64.sqrt() - 1e-12,
                "std {s} collapsed from {s0}"
            );
        }
    }

    #[test]
    fn with_no_feasible_candidate_the_distribution_is_kept() {
        let mut solver = CrossEntropy::new(vec![[-1.0, 1.0]; 2], 6, 2)
            .expect("solver")
            .with_warm_starts(vec![vec![0.0, 0.0]; 6]);
        let (m0, s0) = (solver.mean().to_vec(), solver.std().to_vec());
        let state = one_iteration(&mut solver, Sliver);
        assert!(solver.last_elites().is_empty());
        assert_eq!(solver.mean(), m0.as_slice());
        assert_eq!(solver.std(), s0.as_slice());
        assert!(state.get_best_cost().is_infinite());
    }

    #[test]
    fn the_std_never_falls_below_the_floor() {
        struct Point;
        impl CostFunction for Point {
            type Param = Vec<f64>;
            type Output = f64;
            fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
                Ok((x[0] - 1.0).abs() + x[1].abs())
            }
        }
        let solver = CrossEntropy::new(vec![[0.0, 4.0], [-1.0, 1.0]], 20, 5)
            .expect("solver")
            .with_std_floor(0.01)
            .expect("floor");
        let res = Executor::new(Point, solver)
            .configure(|s| s.max_iters(40))
            .run()
            .expect("run");
        let std = res.solver.std();
        assert!(std[0] >= 0.04 - 1e-15 && std[1] >= 0.02 - 1e-15, "{std:?}");
        assert!(
            std[0] < 0.05 && std[1] < 0.03,
            "converged to the floor: {std:?}"
        );
    }

    #[test]
    fn a_tolerance_below_the_floor_stops_at_the_floor() {
        struct Bowl;
        impl CostFunction for Bowl {
            type Param = Vec<f64>;
            type Output = f64;
            fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
                Ok(x[0] * x[0])
            }
        }
        let solver = CrossEntropy::new(vec![[-1.0, 1.0]], 20, 9)
            .expect("solver")
            .with_std_floor(1e-3)
            .expect("floor")
            .with_std_tolerance(1e-9);
        let res = Executor::new(Bowl, solver)
            .configure(|s| s.max_iters(500))
            .run()
            .expect("run");
        assert!(
            res.state.get_iter() < 100,
            "ran {} iterations",
            res.state.get_iter()
        );
        assert_eq!(
            res.state.get_termination_reason(),
            Some(&TerminationReason::SolverConverged)
        );
    }

    #[test]
    fn fewer_than_two_elites_is_refused() {
        let solver = CrossEntropy::new(vec![[0.0, 1.0]], 10, 0).expect("solver");
        assert!(solver.clone().with_elites(1).is_err());
        assert!(solver.clone().with_elites(2).is_ok());
        assert!(solver.with_std_floor(1.0).is_err());
    }
}
