//! The verdicts of `asid bench identify`: how often the structure was chosen right (per true
//! structure) and how often the fit called each parameter, and all of them, identifiable.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use asid_core::ParamSpace;
use serde::Serialize;

/// Parameters held at a value in every trial (`name=value,...`, e.g. `lid.hinge.present=0` to
/// draw only welded lids); the others are drawn from the prior.
pub fn parse_holds(space: &ParamSpace, text: &str) -> anyhow::Result<Vec<(usize, f64)>> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let Some((name, value)) = item.split_once('=') else {
                bail!("--hold `{item}`: expected name=value");
            };
            let i = space
                .index_of(name.trim())
                .with_context(|| format!("--hold: the scene has no parameter `{name}`"))?;
            let v: f64 = value
                .trim()
                .parse()
                .with_context(|| format!("--hold `{item}`: not a number"))?;
            let mut t = space.center();
            t[i] = v;
            space
                .check(&t)
                .map_err(|e| anyhow::anyhow!("--hold `{item}`: {e}"))?;
            Ok((i, v))
        })
        .collect()
}

/// Sets the held parameters of a drawn truth.
pub fn hold(truth: &mut [f64], holds: &[(usize, f64)]) {
    for &(i, v) in holds {
        truth[i] = v;
    }
}

/// Counts over the trials of one configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdicts {
    /// Fits counted.
    pub fits: usize,
    /// Per discrete parameter and true value: `[trials, chosen correctly]`.
    pub structure: BTreeMap<String, BTreeMap<String, [usize; 2]>>,
    /// Per continuous parameter: fits that called it identifiable.
    pub identifiable: BTreeMap<String, usize>,
    /// Fits that called every continuous parameter identifiable (for a discrete truth: those that
    /// act under it).
    pub all_identifiable: usize,
}

impl Verdicts {
    /// Adds one fit at `truth`.
    pub fn add(&mut self, space: &ParamSpace, truth: &[f64], fit: &asid_sysid::Fit) {
        self.fits += 1;
        let acts = asid_sysid::structure::acting(space, truth);
        let mut all = true;
        for (i, p) in space.params.iter().enumerate() {
            let called = fit.identifiable.get(&p.name).copied().unwrap_or(false);
            if p.prior.is_discrete() {
                let right = fit.estimate.get(&p.name) == Some(&truth[i]);
                let e = self
                    .structure
                    .entry(p.name.clone())
                    .or_default()
                    .entry(format!("{}", truth[i]))
                    .or_default();
                e[0] += 1;
                e[1] += usize::from(right);
                continue;
            }
            *self.identifiable.entry(p.name.clone()).or_default() += usize::from(called);
            if acts[i] && !called {
                all = false;
            }
        }
        self.all_identifiable += usize::from(all);
    }

    /// Text lines.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, by_truth) in &self.structure {
            for (truth, [n, right]) in by_truth {
                out.push(format!(
                    "  structure {name} = {truth}: chosen correctly in {right} of {n} fits"
                ));
            }
        }
        let each: Vec<String> = self
            .identifiable
            .iter()
            .map(|(n, k)| format!("{n} {k}"))
            .collect();
        out.push(format!(
            "  identifiable (of {} fits): {}; all acting parameters in {}",
            self.fits,
            each.join(", "),
            self.all_identifiable
        ));
        out
    }
}
