//! Structure: every combination of the discrete parameters (is the lid hinged?) is a hypothesis,
//! fitted over the continuous parameters that act under it, and the Bayesian information criterion
//! `BIC = chi2 + k ln N` (known noise) chooses. `k` counts only those acting parameters: a welded
//! lid has no damping and no axis, so it pays for neither. With equal prior odds the posterior
//! probability of a hypothesis is proportional to `exp(-BIC / 2)`; the verdict reports the BIC
//! difference to the runner-up and those odds, and calls the structure identified when the
//! difference exceeds [`DECISIVE_BIC`].

use std::collections::BTreeMap;

use asid_core::{ParamSpace, ParamTarget, Prior};
use serde::{Deserialize, Serialize};

/// BIC difference above which the structure counts as identified (Kass and Raftery's "very
/// strong" evidence: posterior odds above e^5, about 150 to 1).
pub const DECISIVE_BIC: f64 = 10.0;

/// One structural hypothesis and how well it fits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hypothesis {
    /// Values of the discrete parameters.
    pub structure: BTreeMap<String, f64>,
    /// The continuous parameters that act under it (fitted and counted by the BIC).
    #[serde(default)]
    pub parameters: Vec<String>,
    /// Sum of squared whitened residuals at its optimum.
    pub chi2: f64,
    /// How many of `parameters` the data determine: MacKay's `sum lambda / (1 + lambda)` over the
    /// Fisher information's eigenvalues in prior-std units (1 each when pinned down, 0 when
    /// untouched).
    #[serde(default)]
    pub effective_parameters: f64,
    /// Bayesian information criterion (known noise) of the parameters the data determine:
    /// `chi2 + k ln N`, `k` = `effective_parameters`. A parameter the data never touch costs
    /// nothing (counting it would prefer the simpler structure by `ln N` per such parameter with
    /// no evidence at all).
    pub bic: f64,
    /// BIC minus the lowest BIC.
    #[serde(default)]
    pub delta_bic: f64,
    /// Posterior probability with equal prior odds: `exp(-delta_bic / 2)`, normalised.
    #[serde(default)]
    pub posterior_probability: f64,
    /// Whether it was chosen.
    pub chosen: bool,
}

/// The structure verdict of a fit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StructureVerdict {
    /// The chosen values of the discrete parameters.
    pub chosen: BTreeMap<String, f64>,
    /// BIC of the runner-up minus that of the chosen hypothesis.
    pub delta_bic: f64,
    /// Posterior odds of the chosen hypothesis against the runner-up, `exp(delta_bic / 2)`,
    /// capped at `f64::MAX` (a BIC difference above 1419): JSON has no infinity, and an infinite
    /// value was written as `null` that no reader could read back.
    pub posterior_odds: f64,
    /// The threshold on `delta_bic` for an identified structure ([`DECISIVE_BIC`]).
    pub threshold: f64,
    /// `delta_bic > threshold`.
    pub identified: bool,
    /// In words.
    pub verdict: String,
}

/// Every combination of the discrete parameters' values, each as a full parameter vector (the
/// continuous parameters at `base`).
pub fn hypotheses(space: &ParamSpace, base: &[f64]) -> Vec<Vec<f64>> {
    let mut combos = vec![base.to_vec()];
    for (d, p) in space.params.iter().enumerate() {
        let Prior::Discrete { values } = &p.prior else {
            continue;
        };
        combos = combos
            .iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c[d] = *v;
                    c
                })
            })
            .collect();
    }
    combos
}

/// Whether each parameter acts on the simulation under the structure of `theta`: the damping,
/// friction and axis of a joint act only where the joint is present.
pub fn acting(space: &ParamSpace, theta: &[f64]) -> Vec<bool> {
    let welded: Vec<usize> = space
        .params
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p.target {
            ParamTarget::JointPresent { object } if theta[i] == 0.0 => Some(object),
            _ => None,
        })
        .collect();
    space
        .params
        .iter()
        .map(|p| match p.target {
            ParamTarget::JointDamping { object }
            | ParamTarget::JointFriction { object }
            | ParamTarget::JointAxisOffset { object } => !welded.contains(&object),
            _ => true,
        })
        .collect()
}

/// One structure hypothesis fitted.
#[derive(Debug, Clone)]
pub struct StructureFit {
    /// The fitted parameter vector (scene order, discrete values fixed).
    pub theta: Vec<f64>,
    /// Sum of squared whitened residuals at the optimum.
    pub chi2: f64,
    /// The continuous parameters that act under it (fitted).
    pub parameters: Vec<String>,
    /// How many of them the data determine (see [`Hypothesis::effective_parameters`]).
    pub effective_parameters: f64,
}

/// The hypotheses' BIC from their chi-square and the number of parameters the data determine, on
/// `n` residuals; the chosen one (lowest BIC) and the verdict (`None` when the space has no
/// discrete parameter).
pub fn choose(
    space: &ParamSpace,
    fits: &[StructureFit],
    n: usize,
) -> (usize, Vec<Hypothesis>, Option<StructureVerdict>) {
    let ln_n = (n.max(1) as f64).ln();
    let bic: Vec<f64> = fits
        .iter()
        .map(|f| f.chi2 + f.effective_parameters * ln_n)
        .collect();
    let chosen = (0..fits.len())
        .min_by(|&a, &b| bic[a].total_cmp(&bic[b]))
        .unwrap_or(0);
    let discrete: Vec<usize> = (0..space.dim())
        .filter(|&i| space.params[i].prior.is_discrete())
        .collect();
    if discrete.is_empty() {
        return (chosen, Vec::new(), None);
    }
    let structure_of = |theta: &[f64]| -> BTreeMap<String, f64> {
        discrete
            .iter()
            .map(|&d| (space.params[d].name.clone(), theta[d]))
            .collect()
    };
    let best = bic[chosen];
    let weights: Vec<f64> = bic.iter().map(|b| (-(b - best) / 2.0).exp()).collect();
    let total: f64 = weights.iter().sum();
    let hyps: Vec<Hypothesis> = fits
        .iter()
        .enumerate()
        .map(|(k, f)| Hypothesis {
            structure: structure_of(&f.theta),
            parameters: f.parameters.clone(),
            effective_parameters: f.effective_parameters,
            chi2: f.chi2,
            bic: bic[k],
            delta_bic: bic[k] - best,
            posterior_probability: weights[k] / total,
            chosen: k == chosen,
        })
        .collect();
    let runner_up = hyps
        .iter()
        .filter(|h| !h.chosen)
        .min_by(|a, b| a.bic.total_cmp(&b.bic));
    let delta = runner_up.map_or(f64::INFINITY, |h| h.delta_bic);
    let odds = (delta / 2.0).exp().min(f64::MAX);
    let describe = |s: &BTreeMap<String, f64>| {
        s.iter()
            .map(|(n, v)| format!("{n} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen_structure = hyps[chosen].structure.clone();
    let identified = delta > DECISIVE_BIC;
    let verdict = format!(
        "structure {}: BIC {:.1} below {} ({:.1} of {} acting parameters determined by the data \
         against {:.1} of {}), posterior odds {:.3e} to 1; {} (threshold: a BIC difference of \
         {DECISIVE_BIC})",
        describe(&chosen_structure),
        delta,
        runner_up.map_or("no alternative".to_string(), |h| describe(&h.structure)),
        hyps[chosen].effective_parameters,
        hyps[chosen].parameters.len(),
        runner_up.map_or(0.0, |h| h.effective_parameters),
        runner_up.map_or(0, |h| h.parameters.len()),
        odds,
        if identified {
            "identified"
        } else {
            "not identified: the data do not decide"
        },
    );
    let verdict = StructureVerdict {
        chosen: chosen_structure,
        delta_bic: delta,
        posterior_odds: odds,
        threshold: DECISIVE_BIC,
        identified,
        verdict,
    };
    (chosen, hyps, Some(verdict))
}

#[cfg(test)]
mod tests {
    use super::*;
    use asid_core::Param;

    fn param(name: &str, target: ParamTarget, prior: Prior) -> Param {
        Param {
            name: name.into(),
            target_path: name.into(),
            target,
            prior,
            bounds: [0.0, 1.0],
            fd_step: 0.01,
            nominal: 0.5,
        }
    }

    fn lid() -> ParamSpace {
        let u = Prior::Uniform {
            low: 0.0,
            high: 1.0,
        };
        ParamSpace {
            params: vec![
                param(
                    "present",
                    ParamTarget::JointPresent { object: 1 },
                    Prior::Discrete {
                        values: vec![0.0, 1.0],
                    },
                ),
                param(
                    "damping",
                    ParamTarget::JointDamping { object: 1 },
                    u.clone(),
                ),
                param(
                    "offset",
                    ParamTarget::JointAxisOffset { object: 1 },
                    u.clone(),
                ),
                param(
                    "other_damping",
                    ParamTarget::JointDamping { object: 2 },
                    u.clone(),
                ),
                param("mass", ParamTarget::Mass { object: 1 }, u),
            ],
        }
    }

    #[test]
    fn a_welded_joint_has_no_damping_or_axis_but_the_rest_acts() {
        let space = lid();
        assert_eq!(
            acting(&space, &[0.0, 0.5, 0.5, 0.5, 0.5]),
            vec![true, false, false, true, true]
        );
        assert_eq!(acting(&space, &[1.0, 0.5, 0.5, 0.5, 0.5]), vec![true; 5]);
        let h = hypotheses(&space, &[0.0, 0.1, 0.2, 0.3, 0.4]);
        assert_eq!(h.len(), 2);
        assert_eq!(h[1], vec![1.0, 0.1, 0.2, 0.3, 0.4]);
    }

    fn fit(theta: Vec<f64>, chi2: f64, parameters: Vec<String>, effective: f64) -> StructureFit {
        StructureFit {
            theta,
            chi2,
            parameters,
            effective_parameters: effective,
        }
    }

    #[test]
    fn bic_penalises_only_the_acting_parameters_and_reports_the_odds() {
        let space = lid();
        let n = 400;
        let two = vec!["damping".to_string(), "offset".to_string()];
        // The hinged fit explains the data 5 chi-square units better, not enough for two
        // determined parameters: 2 ln 400 = 11.98.
        let fits = vec![
            fit(vec![0.0, 0.5, 0.5, 0.5, 0.5], 405.0, Vec::new(), 0.0),
            fit(vec![1.0, 0.5, 0.5, 0.5, 0.5], 400.0, two.clone(), 2.0),
        ];
        let (chosen, hyps, v) = choose(&space, &fits, n);
        let v = v.expect("verdict");
        assert_eq!(chosen, 0);
        let expected = 2.0 * (n as f64).ln() - 5.0;
        assert!((v.delta_bic - expected).abs() < 1e-9, "{v:?}");
        assert!((v.posterior_odds - (expected / 2.0).exp()).abs() < 1e-9);
        assert!(
            !v.identified,
            "a difference of {expected:.2} is below {DECISIVE_BIC}"
        );
        let total: f64 = hyps.iter().map(|h| h.posterior_probability).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert_eq!(hyps[1].parameters, two);
        assert!(v.verdict.contains("posterior odds"), "{}", v.verdict);
        // A clearly better hinged fit wins and is identified.
        let fits = vec![
            fit(vec![0.0, 0.5, 0.5, 0.5, 0.5], 900.0, Vec::new(), 0.0),
            fit(vec![1.0, 0.5, 0.5, 0.5, 0.5], 400.0, two.clone(), 2.0),
        ];
        let (chosen, _, v) = choose(&space, &fits, n);
        let v = v.expect("verdict");
        assert_eq!(chosen, 1);
        assert!(v.identified && v.delta_bic > 480.0, "{v:?}");
        // Data that never touched the lid: both fit equally and the hinge's parameters are not
        // determined, so they cost nothing and the odds stay even (counting them would have
        // called the lid welded, "identified", by 2 ln N = 12 with no evidence).
        let fits = vec![
            fit(vec![0.0, 0.5, 0.5, 0.5, 0.5], 400.0, Vec::new(), 0.0),
            fit(vec![1.0, 0.5, 0.5, 0.5, 0.5], 400.0, two, 0.0),
        ];
        let (_, hyps, v) = choose(&space, &fits, n);
        let v = v.expect("verdict");
        assert!(!v.identified && v.delta_bic.abs() < 1e-12, "{v:?}");
        assert!((hyps[0].posterior_probability - 0.5).abs() < 1e-12);
    }

    #[test]
    fn the_effective_count_is_one_per_determined_direction_and_zero_per_untouched_one() {
        // Column 0 pinned down (information 1e4 in prior-std units), column 1 untouched.
        let j = nalgebra::DMatrix::from_row_slice(2, 2, &[100.0, 0.0, 0.0, 0.0]);
        let k = crate::fit::effective_parameters(&j);
        assert!((k - 1e4 / (1.0 + 1e4)).abs() < 1e-12, "{k}");
        // As informative as the prior: half a parameter.
        let j = nalgebra::DMatrix::from_row_slice(1, 1, &[1.0]);
        assert!((crate::fit::effective_parameters(&j) - 0.5).abs() < 1e-12);
    }
}
