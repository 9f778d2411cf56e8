//! The Cross-Entropy Method as an argmin [`Solver`]: sample a population from a diagonal Gaussian
//! inside box bounds, keep the elite fraction, refit the Gaussian, repeat.

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

/// Cross-Entropy Method with box bounds, seeded and reproducible; the population is evaluated with
/// the problem's `bulk_cost` (parallel with argmin's `rayon` feature).
#[derive(Clone, Debug)]
pub struct CrossEntropy {
    bounds: Vec<[f64; 2]>,
    population: usize,
    elites: usize,
    mean: Vec<f64>,
    std: Vec<f64>,
    min_std: f64,
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
            elites: (population / 5).max(2),
            bounds,
            population,
            mean,
            std,
            min_std: 1e-9,
            smoothing: 0.0,
            seed,
            rng: StdRng::seed_from_u64(seed),
            warm_starts: Vec::new(),
            std_tolerance: 0.0,
        })
    }

    /// Number of elites kept per iteration (default: a fifth of the population, at least 2).
    pub fn with_elites(mut self, elites: usize) -> Result<Self, Error> {
        if elites < 1 || elites > self.population {
            return Err(ArgminError::InvalidParameter {
                text: format!("elites must be in 1..={}", self.population),
            }
            .into());
        }
        self.elites = elites;
        Ok(self)
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

    /// Stop when every std has fallen below this fraction of its box width.
    pub fn with_std_tolerance(mut self, tol: f64) -> Self {
        self.std_tolerance = tol;
        self
    }

    /// The current sampling mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
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
        let elites = &order[..self.elites.min(order.len())];
        let n = elites.len() as f64;
        for (d, (mean, std)) in self.mean.iter_mut().zip(self.std.iter_mut()).enumerate() {
            let m = elites.iter().map(|&i| pop[i][d]).sum::<f64>() / n;
            let v = elites.iter().map(|&i| (pop[i][d] - m).powi(2)).sum::<f64>() / n;
            *mean = self.smoothing * *mean + (1.0 - self.smoothing) * m;
            *std = (self.smoothing * *std + (1.0 - self.smoothing) * v.sqrt()).max(self.min_std);
        }
        let best = order[0];
        let elite_cost = elites.iter().map(|&i| costs[i]).sum::<f64>() / n;
        let kv = argmin::kv!("elite_cost" => elite_cost; "max_std" => self.std.iter().copied().fold(0.0, f64::max););
        let best_param = pop[best].clone();
        let best_cost = costs[best];
        Ok((
            state.individual(best_param).cost(best_cost).population(pop),
            Some(kv),
        ))
    }

    fn terminate(&mut self, _state: &CemState) -> TerminationStatus {
        let converged = self.std_tolerance > 0.0
            && self
                .std
                .iter()
                .zip(&self.bounds)
                .all(|(s, [lo, hi])| *s <= self.std_tolerance * (hi - lo).max(1e-300));
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
