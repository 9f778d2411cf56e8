//! Optimisers of asid written as argmin solvers, shared by exploration planning and identification.
//!
//! argmin has no Cross-Entropy Method; [`CrossEntropy`] is one, with box bounds, a seed, elites and
//! warm starts, and it evaluates each population through the problem's `bulk_cost` so the rollouts
//! run in parallel. Penalised candidates (cost at or above [`INFEASIBLE_COST`], or not finite) never
//! become elites; a refit uses at least [`MIN_ELITES`] (missing ones stand for the previous
//! distribution) and the std keeps a floor relative to the box width.
//!
//! ```
//! use argmin::core::{CostFunction, Error, Executor};
//! use asid_opt::CrossEntropy;
//!
//! struct Bowl;
//! impl CostFunction for Bowl {
//!     type Param = Vec<f64>;
//!     type Output = f64;
//!     fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
//!         Ok((x[0] - 0.3).powi(2) + (x[1] + 0.1).powi(2))
//!     }
//! }
//! let solver = CrossEntropy::new(vec![[-1.0, 1.0]; 2], 40, 7)?;
//! let res = Executor::new(Bowl, solver).configure(|s| s.max_iters(30)).run()?;
//! let best = res.state().best_individual.clone().expect("a best individual");
//! assert!((best[0] - 0.3).abs() < 1e-2 && (best[1] + 0.1).abs() < 1e-2);
//! # Ok::<(), Error>(())
//! ```

mod cem;

pub use cem::{CemState, CrossEntropy, DEFAULT_STD_FLOOR, INFEASIBLE_COST, MIN_ELITES, best_of};
