//! The identifiability verdict a fit reports: a parameter is identifiable only when the data pin
//! it down alone (Fisher eigen-directions), its 95 % interval closes inside the bounds, and it is
//! not confounded with another parameter (|correlation| above [`CONFOUNDED`]); for a confounded
//! pair the combination the data do determine is reported.

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::profile::Interval;

/// |correlation| above which two parameters are determined only in combination.
pub const CONFOUNDED: f64 = 0.95;

/// Two parameters the data determine only in combination.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Combination {
    /// The two parameters.
    pub params: [String; 2],
    /// Their correlation.
    pub correlation: f64,
    /// The best-determined combination `a - k b` (k = rho std_a / std_b), spelled out.
    pub combination: String,
    /// Its coefficient k.
    pub k: f64,
    /// Its value at the estimate.
    pub value: f64,
    /// Its std (`std_a sqrt(1 - rho^2)`).
    pub std: f64,
}

/// Confounded pairs among the free parameters (`names`, estimates `values`, covariance `cov`).
pub fn confounded(names: &[String], values: &[f64], cov: &DMatrix<f64>) -> Vec<Combination> {
    let p = names.len();
    let mut out = Vec::new();
    for a in 0..p {
        for b in a + 1..p {
            let (sa, sb) = (cov[(a, a)].sqrt(), cov[(b, b)].sqrt());
            let rho = cov[(a, b)] / (sa * sb);
            if !(sa.is_finite() && sb.is_finite() && rho.is_finite()) || rho.abs() <= CONFOUNDED {
                continue;
            }
            let k = rho * sa / sb;
            let value = values[a] - k * values[b];
            let std = sa * (1.0 - rho * rho).max(0.0).sqrt();
            out.push(Combination {
                params: [names[a].clone(), names[b].clone()],
                correlation: rho,
                combination: format!(
                    "{} {} {:.4e} * {} = {value:.6e} +- {std:.2e}",
                    names[a],
                    if k >= 0.0 { "-" } else { "+" },
                    k.abs(),
                    names[b]
                ),
                k,
                value,
                std,
            });
        }
    }
    out
}

/// Per parameter: identifiable by the Fisher directions (`directions`), by the interval closing
/// inside the bounds and by not being confounded; and the reasons of every `false`, for the
/// verdict.
pub fn verdict(
    directions: &BTreeMap<String, bool>,
    intervals: &BTreeMap<String, Interval>,
    pairs: &[Combination],
) -> (BTreeMap<String, bool>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut reasons = Vec::new();
    for (name, &ok) in directions {
        let mut why = Vec::new();
        if !ok {
            why.push("a direction of parameter space the data do not determine".to_string());
        }
        if let Some(i) = intervals.get(name) {
            match (i.lo_open, i.hi_open) {
                (true, true) => why.push("its 95 % interval reaches both bounds".into()),
                (true, false) => why.push(format!("its 95 % interval is open at {}", i.lo)),
                (false, true) => why.push(format!("its 95 % interval is open at {}", i.hi)),
                (false, false) => {}
            }
        }
        for c in pairs.iter().filter(|c| c.params.contains(name)) {
            why.push(format!(
                "determined only in combination (correlation {:+.3}): {}",
                c.correlation, c.combination
            ));
        }
        if !why.is_empty() {
            reasons.push(format!("{name} is not identifiable: {}", why.join("; ")));
        }
        out.insert(name.clone(), why.is_empty());
    }
    (out, reasons)
}
