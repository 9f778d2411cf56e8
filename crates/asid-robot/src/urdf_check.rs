//! Checks of a parsed URDF beyond its syntax: every number finite, masses and inertias not
//! negative, every joint between links that exist, each link the child of one joint at most, and
//! no cycle of joints. A NaN in a joint origin is reported as such, not later as an inverse
//! kinematics failure.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::RobotError;

/// Parses URDF text (named `file` in errors) and checks it.
pub fn parse_urdf(file: &Path, text: &str) -> Result<urdf_rs::Robot, RobotError> {
    let robot = urdf_rs::read_from_string(text).map_err(|e| RobotError::Urdf {
        file: file.to_path_buf(),
        message: e.to_string(),
    })?;
    check_urdf(file, &robot)?;
    Ok(robot)
}

/// Checks a parsed URDF; the error names the link or joint and the field.
pub fn check_urdf(file: &Path, robot: &urdf_rs::Robot) -> Result<(), RobotError> {
    let bad = |message: String| RobotError::Urdf {
        file: file.to_path_buf(),
        message,
    };
    let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
    for l in &robot.links {
        let i = &l.inertial;
        let m = i.mass.value;
        if !(m.is_finite() && m >= 0.0) {
            return Err(bad(format!(
                "link `{}`: inertial mass {m} (allowed: a finite mass >= 0 kg)",
                l.name
            )));
        }
        if !finite(&i.origin.xyz.0) || !finite(&i.origin.rpy.0) {
            return Err(bad(format!(
                "link `{}`: inertial origin {:?} rpy {:?} is not finite",
                l.name, i.origin.xyz.0, i.origin.rpy.0
            )));
        }
        let t = &i.inertia;
        let tensor = [t.ixx, t.ixy, t.ixz, t.iyy, t.iyz, t.izz];
        if !finite(&tensor) || t.ixx < 0.0 || t.iyy < 0.0 || t.izz < 0.0 {
            return Err(bad(format!(
                "link `{}`: inertia {tensor:?} (allowed: finite, ixx, iyy, izz >= 0)",
                l.name
            )));
        }
    }
    let links: HashSet<&str> = robot.links.iter().map(|l| l.name.as_str()).collect();
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    for j in &robot.joints {
        let o = &j.origin;
        if !finite(&o.xyz.0) || !finite(&o.rpy.0) {
            return Err(bad(format!(
                "joint `{}`: origin xyz {:?} rpy {:?} is not finite (NaN or infinite)",
                j.name, o.xyz.0, o.rpy.0
            )));
        }
        if !finite(&j.axis.xyz.0) {
            return Err(bad(format!(
                "joint `{}`: axis {:?} is not finite",
                j.name, j.axis.xyz.0
            )));
        }
        let l = &j.limit;
        if !finite(&[l.lower, l.upper, l.effort, l.velocity]) {
            return Err(bad(format!(
                "joint `{}`: limit lower {} upper {} effort {} velocity {} is not finite",
                j.name, l.lower, l.upper, l.effort, l.velocity
            )));
        }
        for (role, link) in [("parent", &j.parent.link), ("child", &j.child.link)] {
            if !links.contains(link.as_str()) {
                return Err(bad(format!(
                    "joint `{}`: {role} link `{link}` is not defined",
                    j.name
                )));
            }
        }
        if j.parent.link == j.child.link {
            return Err(bad(format!(
                "joint `{}` joins link `{}` to itself",
                j.name, j.parent.link
            )));
        }
        if let Some(other) = parent_of.insert(&j.child.link, &j.parent.link) {
            return Err(bad(format!(
                "link `{}` is the child of two joints (parents `{other}` and `{}`)",
                j.child.link, j.parent.link
            )));
        }
    }
    // Each link has one parent at most, so a cycle shows as a walk up that comes back.
    for start in parent_of.keys() {
        let mut seen = HashSet::from([*start]);
        let mut at = *start;
        while let Some(p) = parent_of.get(at) {
            if !seen.insert(*p) {
                return Err(bad(format!("the joints form a cycle through link `{p}`")));
            }
            at = p;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urdf(joints: &str, mass: &str) -> String {
        format!(
            r#"<robot name="r">
  <link name="a"><inertial><mass value="{mass}"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial></link>
  <link name="b"/>
  <link name="c"/>
  {joints}
</robot>"#
        )
    }

    const CHAIN: &str = r#"<joint name="j1" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
  <joint name="j2" type="revolute"><parent link="b"/><child link="c"/><axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>"#;

    #[test]
    fn a_chain_passes() {
        parse_urdf(Path::new("r.urdf"), &urdf(CHAIN, "1")).expect("a plain chain");
    }

    #[test]
    fn a_joint_cycle_is_refused() {
        let cycle = format!(
            r#"{CHAIN}
  <joint name="j3" type="fixed"><parent link="c"/><child link="a"/></joint>"#
        );
        let e = parse_urdf(Path::new("r.urdf"), &urdf(&cycle, "1")).expect_err("cycle");
        assert!(e.to_string().contains("cycle"), "{e}");
    }

    #[test]
    fn a_negative_link_mass_is_refused() {
        let e = parse_urdf(Path::new("r.urdf"), &urdf(CHAIN, "-2")).expect_err("negative mass");
        assert!(
            e.to_string().contains("link `a`") && e.to_string().contains("mass -2"),
            "{e}"
        );
    }

    #[test]
    fn nan_in_a_joint_origin_is_reported_as_nan() {
        let nan = CHAIN.replacen(
            r#"<axis xyz="0 0 1"/>"#,
            r#"<origin xyz="0 NaN 0"/><axis xyz="0 0 1"/>"#,
            1,
        );
        let e = parse_urdf(Path::new("r.urdf"), &urdf(&nan, "1")).expect_err("NaN origin");
        assert!(
            e.to_string().contains("joint `j1`") && e.to_string().contains("NaN"),
            "{e}"
        );
    }
}
