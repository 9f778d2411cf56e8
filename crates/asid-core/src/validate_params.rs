//! Validation of the unknown parameters: targets, priors, bounds, finite-difference steps.

use std::collections::BTreeSet;

use crate::error::ConfigError;
use crate::param::{JOINT_FIELDS, OBJECT_FIELDS, ParamSpec, ParamTarget, Prior};
use crate::scene::SceneSpec;
use crate::space::{Param, ParamSpace};
use crate::validate::{Validator, finite_pos, increasing, norm};

impl Validator<'_> {
    pub(crate) fn params(&self, s: &SceneSpec) -> Result<ParamSpace, ConfigError> {
        let mut out = ParamSpace::default();
        let mut seen = BTreeSet::new();
        for (i, p) in s.parameters.iter().enumerate() {
            let key = format!("parameter[{i}]");
            let target = self.target(s, &format!("{key}.target"), &p.target)?;
            let name = p.name.clone().unwrap_or_else(|| p.target.clone());
            if !seen.insert(name.clone()) {
                return Err(self.err(
                    format!("{key}.name"),
                    format!("parameter `{name}` appears twice"),
                    "unique names",
                ));
            }
            if out.params.iter().any(|q| q.target == target) {
                return Err(self.err(
                    format!("{key}.target"),
                    format!("`{}` is set by two parameters", p.target),
                    "one parameter per target",
                ));
            }
            let [lo, hi] = p.bounds;
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(self.err(
                    format!("{key}.bounds"),
                    format!("[{lo}, {hi}] is not a finite interval"),
                    "[low, high], finite, low < high",
                ));
            }
            let (min_ok, phys) = physical_range(&target);
            if lo < min_ok {
                return Err(self.err(
                    format!("{key}.bounds"),
                    format!("lower bound {lo} is not physical for `{}`", p.target),
                    phys,
                ));
            }
            self.prior(&key, p, lo, hi)?;
            let fd_step = self.fd_step(&key, p, lo, hi)?;
            let nominal = nominal_value(s, &target);
            if nominal < lo || nominal > hi {
                return Err(self.err(
                    format!("{key}.bounds"),
                    format!(
                        "the scene's own value {nominal} of `{}` lies outside the bounds",
                        p.target
                    ),
                    &format!("bounds that contain {nominal}"),
                ));
            }
            out.params.push(Param {
                name,
                target_path: p.target.clone(),
                target,
                prior: p.prior.clone(),
                bounds: p.bounds,
                fd_step,
                nominal,
            });
        }
        Ok(out)
    }

    fn prior(&self, key: &str, p: &ParamSpec, lo: f64, hi: f64) -> Result<(), ConfigError> {
        let pkey = format!("{key}.prior");
        let inside = |a: f64, b: f64| a >= lo && b <= hi;
        match &p.prior {
            Prior::Uniform { low, high } => {
                if !increasing(*low, *high) {
                    return Err(self.err(
                        pkey,
                        format!("uniform [{low}, {high}] is empty"),
                        "low < high",
                    ));
                }
                if !inside(*low, *high) {
                    return Err(self.err(
                        pkey,
                        format!("uniform [{low}, {high}] reaches outside the bounds [{lo}, {hi}]"),
                        "a prior inside the bounds",
                    ));
                }
            }
            Prior::LogUniform { low, high } => {
                if !(*low > 0.0 && low < high) {
                    return Err(self.err(
                        pkey,
                        format!("log-uniform [{low}, {high}] is invalid"),
                        "0 < low < high",
                    ));
                }
                if !inside(*low, *high) {
                    return Err(self.err(
                        pkey,
                        format!(
                            "log-uniform [{low}, {high}] reaches outside the bounds [{lo}, {hi}]"
                        ),
                        "a prior inside the bounds",
                    ));
                }
            }
            Prior::Normal { mean, std } => {
                if !finite_pos(*std) {
                    return Err(self.err(
                        format!("{pkey}.std"),
                        format!("std {std} is not allowed"),
                        "> 0",
                    ));
                }
                if !inside(*mean, *mean) {
                    return Err(self.err(
                        format!("{pkey}.mean"),
                        format!("mean {mean} lies outside the bounds [{lo}, {hi}]"),
                        "a mean inside the bounds",
                    ));
                }
            }
            Prior::Discrete { values } => {
                if values.is_empty() {
                    return Err(self.err(
                        format!("{pkey}.values"),
                        "no values",
                        "at least one value",
                    ));
                }
                if let Some(v) = values.iter().find(|v| !inside(**v, **v)) {
                    return Err(self.err(
                        format!("{pkey}.values"),
                        format!("value {v} lies outside the bounds [{lo}, {hi}]"),
                        "values inside the bounds",
                    ));
                }
            }
        }
        Ok(())
    }

    fn fd_step(&self, key: &str, p: &ParamSpec, lo: f64, hi: f64) -> Result<f64, ConfigError> {
        match (p.prior.is_discrete(), p.fd_step) {
            (true, None) => Ok(0.0),
            (true, Some(_)) => Err(self.err(
                format!("{key}.fd_step"),
                "a discrete parameter has no derivative",
                "omit fd_step",
            )),
            (false, None) => Ok(0.01 * (hi - lo)),
            (false, Some(h)) => {
                if finite_pos(h) && h < 0.5 * (hi - lo) {
                    Ok(h)
                } else {
                    Err(self.err(
                        format!("{key}.fd_step"),
                        format!("value {h} is not allowed"),
                        &format!("0 < fd_step < {}", 0.5 * (hi - lo)),
                    ))
                }
            }
        }
    }

    fn target(&self, s: &SceneSpec, key: &str, path: &str) -> Result<ParamTarget, ConfigError> {
        let parts: Vec<&str> = path.split('.').collect();
        let unknown = |what: String, allowed: String| self.err(key, what, &allowed);
        let object_names = || {
            s.objects
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match parts.as_slice() {
            ["table", "friction"] => Ok(ParamTarget::TableFriction),
            ["table", patch, "friction"] => s
                .table
                .patches
                .iter()
                .position(|p| p.name == *patch)
                .map(|patch| ParamTarget::PatchFriction { patch })
                .ok_or_else(|| unknown(format!("no table patch `{patch}`"), "table.<patch>.friction with a declared patch".into())),
            [obj, field] => {
                let object = s.objects.iter().position(|o| o.name == *obj).ok_or_else(|| {
                    unknown(format!("no object `{obj}` in `{path}`"), format!("one of: {}", object_names()))
                })?;
                let o = &s.objects[object];
                let t = match *field {
                    "mass" => ParamTarget::Mass { object },
                    "inertia_scale" => ParamTarget::InertiaScale { object },
                    "com_x" => ParamTarget::Com { object, axis: 0 },
                    "com_y" => ParamTarget::Com { object, axis: 1 },
                    "com_z" => ParamTarget::Com { object, axis: 2 },
                    "com_offset" => {
                        let axis = o.shape.long_axis().ok_or_else(|| {
                            unknown(format!("`{obj}` has no single long axis for com_offset"), "com_x, com_y or com_z".into())
                        })?;
                        ParamTarget::Com { object, axis }
                    }
                    "friction" => ParamTarget::Friction { object },
                    "restitution" => ParamTarget::Restitution { object },
                    "rolling_resistance" => ParamTarget::RollingResistance { object },
                    "torsional_friction" => {
                        // Absent, the support sets it (2/3 mu r for a uniform disc); an unknown
                        // needs the scene's own value as its nominal.
                        if o.torsional_friction_m.is_none() {
                            return Err(unknown(
                                format!("`{obj}.torsional_friction` is a parameter but `{obj}` gives no `torsional_friction_m`"),
                                "a nominal `torsional_friction_m` (m) on the object".into(),
                            ));
                        }
                        ParamTarget::TorsionalFriction { object }
                    }
                    "linear_damping" => ParamTarget::LinearDamping { object },
                    "angular_damping" => ParamTarget::AngularDamping { object },
                    other => return Err(unknown(format!("unknown object field `{other}`"), OBJECT_FIELDS.into())),
                };
                if o.fixed && !matches!(t, ParamTarget::Friction { .. } | ParamTarget::Restitution { .. }) {
                    return Err(unknown(format!("`{obj}` is fixed: `{field}` has no effect"), "friction, restitution".into()));
                }
                Ok(t)
            }
            [obj, joint, field] => {
                let object = s.objects.iter().position(|o| o.name == *obj).ok_or_else(|| {
                    unknown(format!("no object `{obj}` in `{path}`"), format!("one of: {}", object_names()))
                })?;
                match &s.objects[object].joint {
                    Some(j) if j.name == *joint => {}
                    _ => return Err(unknown(format!("object `{obj}` has no joint `{joint}`"), "<object>.<its joint>.<field>".into())),
                }
                match *field {
                    "damping" => Ok(ParamTarget::JointDamping { object }),
                    "friction" => Ok(ParamTarget::JointFriction { object }),
                    "axis_offset" => {
                        let dir = s.objects[object].joint.as_ref().map(|j| j.offset_direction).unwrap_or_default();
                        if norm(dir) < 1e-9 {
                            return Err(unknown(format!("joint `{joint}` has no offset_direction"), "set joint.offset_direction to use axis_offset".into()));
                        }
                        Ok(ParamTarget::JointAxisOffset { object })
                    }
                    "present" => Ok(ParamTarget::JointPresent { object }),
                    other => Err(unknown(format!("unknown joint field `{other}`"), JOINT_FIELDS.into())),
                }
            }
            _ => Err(unknown(
                format!("cannot read target `{path}`"),
                "<object>.<field>, <object>.<joint>.<field>, table.friction or table.<patch>.friction".into(),
            )),
        }
    }
}
/// Smallest physical value of a target and a description of the physical range.
fn physical_range(t: &ParamTarget) -> (f64, &'static str) {
    match t {
        ParamTarget::Com { .. } | ParamTarget::JointAxisOffset { .. } => {
            (f64::NEG_INFINITY, "any finite value")
        }
        ParamTarget::Mass { .. } | ParamTarget::InertiaScale { .. } => (1e-9, "> 0"),
        ParamTarget::JointPresent { .. } => (0.0, "0 (welded) or 1 (present)"),
        _ => (0.0, ">= 0"),
    }
}

/// The value a scene file itself gives for a target (NaN for a torsional target on an object
/// without `torsional_friction_m`, which validation refuses).
pub fn nominal_value(s: &SceneSpec, t: &ParamTarget) -> f64 {
    let o = |i: usize| &s.objects[i];
    let j = |i: usize| s.objects[i].joint.as_ref();
    match *t {
        ParamTarget::Mass { object } => o(object).mass_kg,
        ParamTarget::InertiaScale { object } => o(object).inertia_scale,
        ParamTarget::Com { object, axis } => o(object).com_m[axis],
        ParamTarget::Friction { object } => o(object).friction,
        ParamTarget::Restitution { object } => o(object).restitution,
        ParamTarget::RollingResistance { object } => o(object).rolling_resistance,
        ParamTarget::TorsionalFriction { object } => {
            o(object).torsional_friction_m.unwrap_or(f64::NAN)
        }
        ParamTarget::LinearDamping { object } => o(object).linear_damping,
        ParamTarget::AngularDamping { object } => o(object).angular_damping,
        ParamTarget::TableFriction => s.table.friction,
        ParamTarget::PatchFriction { patch } => s.table.patches[patch].friction,
        ParamTarget::JointDamping { object } => j(object).map_or(0.0, |j| j.damping),
        ParamTarget::JointFriction { object } => j(object).map_or(0.0, |j| j.friction),
        ParamTarget::JointAxisOffset { .. } => 0.0,
        ParamTarget::JointPresent { object } => {
            j(object).map_or(0.0, |j| f64::from(u8::from(j.present)))
        }
    }
}
